"""WorldKit's engine: plain torch/numpy/opencv, no ComfyUI imports, testable anywhere."""
