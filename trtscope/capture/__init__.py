"""Live capture on a GPU: build or load a TensorRT engine, time it, profile it, and write a bundle.

Every optional dependency (tensorrt / tensorrt_rtx, cuda-python, pynvml, nvtx, cupti-python) is imported
inside the function that needs it, so importing this package costs nothing on a machine without a GPU.
``trt_backend`` is the only module that touches TensorRT; everything else talks to it through the
:class:`~trtscope.capture.backend.EngineBackend` protocol, which tests replace with a declared fake.
"""
