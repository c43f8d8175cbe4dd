# Model core: kernels, gradient checks, PyTorch parity, optimizer.
grpo_test(NAME test_rng SOURCES model/test_rng.c)
grpo_test(NAME test_grad SOURCES model/test_grad.c)
grpo_test(NAME test_parity SOURCES model/test_parity.c)
grpo_test(NAME test_optim SOURCES model/test_optim.c)
grpo_test(NAME test_fastmath SOURCES model/test_fastmath.c)
