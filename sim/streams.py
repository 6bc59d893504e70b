"""Random streams over the replication axis.

Replications are grouped in fixed blocks of :data:`BLOCK` worlds.  Block ``k``
of a run always draws from ``SeedSequence(seed).spawn(...)[k]``, whatever chunk
it lands in, so results do not depend on the chunk size, the number of
processes or the executor: a chunk only decides which blocks run together.

Each uncertain parameter also has a keyed stream of its own in every block
(:meth:`Streams.keyed_normal`, :meth:`Streams.keyed_random`): a PCG64 generator whose
128-bit state and increment are a BLAKE2b hash of the block's seed and the
parameter's key path (its :func:`stream_tag`), so its draws depend on nothing else.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import lru_cache
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


@lru_cache(maxsize=4096)
def stream_tag(key: str) -> tuple[int, int]:
    """The two 32-bit words that name ``key``'s stream: the first 8 bytes of its BLAKE2b hash.

    A cryptographic hash, not a checksum: two keys share a stream only if their hashes
    collide in 64 bits (a CRC32 checksum, used before, gave two paths with equal checksums
    identical draws).
    """
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest[:4], "little"), int.from_bytes(digest[4:], "little")


def _block_name(seed: np.random.SeedSequence) -> bytes:
    """A block's seed (its entropy and spawn key) as bytes: equal seeds, equal names."""
    entropy = seed.entropy
    words = (int(entropy) if isinstance(entropy, (int, np.integer))
             else tuple(int(w) for w in entropy or ()))
    return repr((words, tuple(int(k) for k in seed.spawn_key))).encode()


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
        # keyed streams: one bit generator, its state set per (block, key)
        self._keyed_bits = np.random.PCG64(0)
        self._keyed = np.random.Generator(self._keyed_bits)
        self._names: list[bytes | None] = [None] * len(self.seeds)

    @classmethod
    def for_range(cls, seed: int, first_block: int, sizes: list[int]) -> Streams:
        """Streams for blocks ``first_block, first_block + 1, ...`` of the run ``seed``."""
        seeds = [block_seed(seed, first_block + i) for i in range(len(sizes))]
        return cls(seeds, sizes)

    def world_index(self) -> np.ndarray:
        """Each world's number in the whole run (block ``k`` holds worlds from
        ``k * BLOCK`` on), whatever chunk it is simulated in."""
        return np.concatenate([s.spawn_key[-1] * BLOCK + np.arange(n, dtype=np.int64)
                               for s, n in zip(self.seeds, self.sizes, strict=True)])

    def keyed_normal(self, key: str, block: int | None = None) -> np.ndarray:
        """Standard normals of shape ``(n,)`` from a stream of their own, named by ``key``.

        Each parameter's draws depend only on the seed, the block and the parameter's
        key path, so two scenarios run with one seed share them wherever they share
        the parameter (common random numbers), whatever else differs.  The stream is
        keyed by a cryptographic hash of ``key`` (:func:`stream_tag`), so two keys never
        share one in practice.  With ``block`` (an index into :attr:`sizes`), only that
        block's draws.
        """
        return self._keyed_draws(key, block, lambda g, n: g.standard_normal(n))

    def keyed_random(self, key: str, block: int | None = None) -> np.ndarray:
        """Uniforms in [0, 1) of shape ``(n,)`` from ``key``'s stream (see
        :meth:`keyed_normal`, which draws normals from the same stream)."""
        return self._keyed_draws(key, block, lambda g, n: g.random(n))

    def _keyed_draws(self, key: str, block: int | None,
                     draw: Callable[[np.random.Generator, int], np.ndarray]) -> np.ndarray:
        blocks = range(len(self.sizes)) if block is None else [block]
        parts = []
        for b in blocks:
            self._seek(b, key)
            parts.append(draw(self._keyed, self.sizes[b]))
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _seek(self, block: int, key: str) -> None:
        """Put the keyed generator at the start of ``key``'s stream in ``block``.

        The stream is PCG64 with the state and (odd) increment taken from 256 bits of
        BLAKE2b of the block's seed and the key's tag.  Setting a state costs a fraction
        of making a ``SeedSequence`` and a generator for each key and block, as before.
        """
        name = self._names[block]
        if name is None:
            name = self._names[block] = b"sim keyed stream\0" + _block_name(self.seeds[block])
        tag = b"".join(w.to_bytes(4, "little") for w in stream_tag(key))
        digest = hashlib.blake2b(name + b"\0" + tag, digest_size=32).digest()
        self._keyed_bits.state = {
            "bit_generator": "PCG64",
            "state": {"state": int.from_bytes(digest[:16], "little"),
                      "inc": int.from_bytes(digest[16:], "little") | 1},
            "has_uint32": 0, "uinteger": 0}

    def _gather(self, draw, shape: tuple[int, ...]) -> np.ndarray:
        parts = [draw(g, (*shape, n)) for g, n in zip(self.generators, self.sizes, strict=True)]
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=-1)

    def random(self, *shape: int) -> np.ndarray:
        """Uniforms in [0, 1) of shape ``(*shape, n)``."""
        return self._gather(lambda g, s: g.random(s), shape)

    def normal(self, *shape: int) -> np.ndarray:
        """Standard normals of shape ``(*shape, n)``."""
        return self._gather(lambda g, s: g.standard_normal(s), shape)
