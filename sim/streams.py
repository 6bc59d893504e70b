"""Random streams over the replication axis.

Replications are grouped in fixed blocks of :data:`BLOCK` worlds.  Block ``k``
of a run always draws from ``SeedSequence(seed).spawn(...)[k]``, whatever chunk
it lands in, so results do not depend on the chunk size, the number of
processes or the executor: a chunk only decides which blocks run together.
"""

from __future__ import annotations

import hashlib
from typing import Protocol

import numpy as np

#: Worlds per seed block.  Chunk sizes are whole numbers of blocks.
BLOCK = 10_000


def block_seed(seed: int, block: int) -> np.random.SeedSequence:
    """Block ``block``'s seed: the same as ``SeedSequence(seed).spawn(block + 1)[block]``."""
    return np.random.SeedSequence(seed, spawn_key=(block,))


def block_sizes(runs: int) -> list[int]:
    """Sizes of the blocks that make up ``runs`` replications."""
    full, rest = divmod(runs, BLOCK)
    return [BLOCK] * full + ([rest] if rest else [])


def stream_tag(key: str) -> tuple[int, int]:
    """The two 32-bit words that name ``key``'s stream: the first 8 bytes of its BLAKE2b hash.

    A cryptographic hash, not a checksum: two keys share a stream only if their hashes
    collide in 64 bits (a CRC32 checksum, used before, gave two paths with equal checksums
    identical draws).
    """
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest[:4], "little"), int.from_bytes(digest[4:], "little")


class Noise(Protocol):
    """What a model steps with: ``n`` worlds, and uniform and normal draws over them.

    :class:`Streams` is one; a model given its parameter values needs nothing more
    (e.g. :mod:`sim.analysis.sensitivity`'s draws shared across design points).
    """

    n: int

    def random(self, *shape: int) -> np.ndarray: ...

    def normal(self, *shape: int) -> np.ndarray: ...


class Streams:
    """Batched draws for a run of consecutive blocks, one generator per block.

    Every draw returns an array whose last axis is the worlds of all blocks, in
    order; block ``k``'s part comes only from block ``k``'s generator.

    Parameters
    ----------
    seeds : list of numpy.random.SeedSequence
        One per block.
    sizes : list of int
        Worlds in each block.
    """

    def __init__(self, seeds: list[np.random.SeedSequence], sizes: list[int]):
        if len(seeds) != len(sizes):
            raise ValueError("one seed per block")
        self.seeds = list(seeds)
        self.generators = [np.random.Generator(np.random.PCG64(s)) for s in seeds]
        self.sizes = list(sizes)
        self.n = int(sum(sizes))

    @classmethod
    def for_range(cls, seed: int, first_block: int, sizes: list[int]) -> Streams:
        """Streams for blocks ``first_block, first_block + 1, ...`` of the run ``seed``."""
        seeds = [block_seed(seed, first_block + i) for i in range(len(sizes))]
        return cls(seeds, sizes)

    def keyed_normal(self, key: str) -> np.ndarray:
        """Standard normals of shape ``(n,)`` from a stream of their own, named by ``key``.

        Each parameter's draws depend only on the seed, the block and the parameter's
        key path, so two scenarios run with one seed share them wherever they share
        the parameter (common random numbers), whatever else differs.  The stream is
        keyed by a cryptographic hash of ``key`` (:func:`stream_tag`), so two keys never
        share one in practice.
        """
        tag = stream_tag(key)
        parts = [np.random.Generator(np.random.PCG64(np.random.SeedSequence(
            s.entropy, spawn_key=(*s.spawn_key, 1, *tag)))).standard_normal(n)
            for s, n in zip(self.seeds, self.sizes, strict=True)]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _gather(self, draw, shape: tuple[int, ...]) -> np.ndarray:
        parts = [draw(g, (*shape, n)) for g, n in zip(self.generators, self.sizes, strict=True)]
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=-1)

    def random(self, *shape: int) -> np.ndarray:
        """Uniforms in [0, 1) of shape ``(*shape, n)``."""
        return self._gather(lambda g, s: g.random(s), shape)

    def normal(self, *shape: int) -> np.ndarray:
        """Standard normals of shape ``(*shape, n)``."""
        return self._gather(lambda g, s: g.standard_normal(s), shape)
