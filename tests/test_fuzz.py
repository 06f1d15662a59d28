"""The bounded fuzzing gate: mutated real artifacts through every reader (hypothesis, derandomized).

Each example is an input derived from a real fixture by mutations hypothesis picks (byte flips, truncation,
wrong JSON types, hostile names and values, huge numbers, deep nesting, logger prefixes, SQLite schema and
page damage...). A reader must reject it with an InputError or accept it with a result that does not
contradict itself (tests/fuzzing.py's invariants); a traceback or a contradiction fails the test with the
input's reproducer. The long run with figures is scripts/fuzz_long.py (docs/fuzzing.md).

Crashes inside the analysis of an accepted input and inside the bundle reader are other modules' findings
(listed in docs/fuzzing.md); here they are collected, not failed on.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzzing import MUTATIONS, Outcome, no_hang, run_one, seeds

#: examples per reader: the whole gate stays around 30 s of CPU
EXAMPLES = {"layer_info_json": 50, "layer_info_log": 30, "profile_json": 40, "profile_log": 30, "times_json": 40,
            "onnx": 50, "nsys": 40, "bundle": 20}
#: far beyond what any example needs (a few hundred ms): only a hang trips it
HANG_GUARD_S = 60


@pytest.mark.parametrize("target", list(EXAMPLES))
def test_fuzzed_inputs_are_rejected_cleanly_or_read_consistently(target: str) -> None:
    seed_list = seeds(target)
    if not seed_list:
        pytest.skip(f"no seeds for {target}: the real artifacts in ../shared/fixtures are absent")
    names = sorted(MUTATIONS[target])
    seen: list[Outcome] = []

    @settings(max_examples=EXAMPLES[target], deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.integers(0, len(seed_list) - 1), st.lists(st.sampled_from(names), min_size=1, max_size=3),
           st.integers(0, 2**31 - 1))
    def check(seed_index: int, mutations: list[str], rng_seed: int) -> None:
        with no_hang(HANG_GUARD_S):
            out = run_one(target, seed_index, tuple(mutations), rng_seed, seed_list)
        seen.append(out)
        assert out.kind not in ("traceback", "contradictory"), f"{out.kind}: {out.detail}\n{out.reproducer()}"

    check()
    kinds = {o.kind for o in seen}
    assert "rejected" in kinds or "boundary" in kinds, "no mutated input was refused: the mutations do nothing"
