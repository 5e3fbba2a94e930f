"""Custom socket types shared by every WorldKit node family."""

from comfy_api.latest import io

Reference = io.Custom("WORLDKIT_REFERENCE")
World = io.Custom("WORLDKIT_WORLD")
Shot = io.Custom("WORLDKIT_SHOT")
Shots = io.Custom("WORLDKIT_SHOTS")
Performance = io.Custom("WORLDKIT_PERFORMANCE")
