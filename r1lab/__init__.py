"""r1lab: the DeepSeek-R1 training pipeline as a lab (see README.md)."""

import logging


class _NoOptionalCpuKernelWarning(logging.Filter):
    """Drops bitsandbytes' warning that its optional CPU 4-bit kernel is missing.

    On CPUs with AVX-512 BF16, importing bitsandbytes (as PEFT and transformers do) tries to
    download a faster 4-bit matmul kernel from the Hugging Face hub through the ``kernels``
    package and logs "Failed to load CPU gemm_4bit_forward ..." when it cannot. The lab never
    runs 4-bit layers on a CPU (QLoRA recipes are for GPUs) and must not download at run time,
    so a learner can do nothing about it: it is filtered here, at its source logger, and
    every other bitsandbytes message still shows.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Failed to load CPU gemm_4bit_forward")


logging.getLogger("bitsandbytes.backends.cpu.ops").addFilter(_NoOptionalCpuKernelWarning())
