"""The shot farm: a film's shot list rendered across ComfyUI servers with Ray (optional extra `worldkit[farm]`).

`driver.run_farm` runs it; `film` splits a film into units; `worker` is the Ray actor. The package imports
nothing itself, so a worker process loads only what it uses (no torch), and Ray is imported when a farm runs.
"""
