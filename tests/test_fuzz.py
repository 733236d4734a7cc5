"""Readers on damaged files: random bytes, truncated and bit-flipped copies of real files
of every format. Each read ends in a correct TraceSet or one InputError, never another
exception. (``benchmarks/fuzz_readers.py`` runs the same with more files per format.)"""

import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spikeinfer import InputError, TraceSet
from fuzzing import FORMATS, damage, make_example, read_example

mutations = st.tuples(st.sampled_from(["truncate", "flip", "random"]),
                      st.integers(0, 2 ** 32 - 1))


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=mutations)
def test_a_damaged_file_reads_correctly_or_fails_with_one_input_error(fmt, mutation, tmp_path,
                                                                     data_dir):
    folder = tmp_path / f"{mutation[0]}{mutation[1]}"
    path = make_example(fmt, folder, data_dir)
    damage(path, *mutation)
    try:
        result = read_example(fmt, path)
    except InputError as err:
        assert "\n" not in str(err)
    else:
        assert all(isinstance(ts, TraceSet) for ts in result)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
