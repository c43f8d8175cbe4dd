# Model files in and out: safetensors, HDF5 checkpoints, HF directories,
# `grpo init` / `grpo convert` (docs/checkpoints.md, docs/models.md).
grpo_test(NAME test_safetensors SOURCES checkpoint/test_safetensors.c)
grpo_test(NAME test_checkpoint SOURCES checkpoint/test_checkpoint.c)
grpo_test(NAME test_hf SOURCES checkpoint/test_hf.c)
grpo_cli_test(NAME cli_init_convert SCRIPT checkpoint/cli_init_convert.sh)
# h5py (python3-h5py at /usr/bin/python3) reads what grpo writes, as docs/checkpoints.md shows.
grpo_cli_test(NAME cli_checkpoint_h5py SCRIPT checkpoint/cli_h5py.sh)
