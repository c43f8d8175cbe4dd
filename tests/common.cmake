# common/: the config binder (every error it promises), JSON reading.
grpo_test(NAME test_config SOURCES common/test_config.c)
