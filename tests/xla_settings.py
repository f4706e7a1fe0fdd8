"""The suite's XLA settings: fast compilation by default, optimized code
where a test's run time outweighs its compile.

The suite's networks are tiny and its runs short, so compiling dominates:
unoptimized XLA code without fusion emitters compiles in about 40 % of the
time (tests/core/steps_test.py's S3GAN steps: 77 s → 31 s) and runs most tests
as fast (the Inception tests: 80 s → 71 s). tests/conftest.py sets
`FAST_COMPILE` in XLA_FLAGS for the whole session; a jit that trains for
hundreds of steps passes `compiler_options=OPTIMIZED`.
"""

FAST_COMPILE = ("--xla_backend_optimization_level=0",
                "--xla_llvm_disable_expensive_passes=true",
                "--xla_cpu_use_fusion_emitters=false")

# XLA's defaults, for one jit (gan_test's 400-step run: 53 s → 31 s).
OPTIMIZED = {"xla_backend_optimization_level": 3,
             "xla_llvm_disable_expensive_passes": False,
             "xla_cpu_use_fusion_emitters": True}
