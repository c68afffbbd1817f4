"""SciPy's side of the monitoring benchmark: scipy.stats.ks_2samp on the columns bench/monitoring.mjs wrote.

Usage: python3 bench/ks_2samp_scipy.py MANIFEST.json
The manifest lists, per feature, two files of little-endian float64 values (reference, current).
Only the ks_2samp calls are timed, by wall clock (time.perf_counter) and process CPU time (time.process_time),
not reading the files or starting Python.
Prints one JSON object: versions and, per feature, statistic, p-value, statistic location, wall and CPU seconds.
"""
import json
import sys
import time

import numpy as np
import scipy
from scipy.stats import ks_2samp


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        manifest = json.load(f)
    columns = [
        (c["name"], np.fromfile(c["reference"], dtype="<f8"), np.fromfile(c["current"], dtype="<f8"))
        for c in manifest["features"]
    ]
    # The first call pays for lazy imports inside SciPy; keep it out of the timings.
    ks_2samp(np.arange(20.0), np.arange(20000.0) / 1000.0)
    results = []
    for name, reference, current in columns:
        wall, cpu = time.perf_counter(), time.process_time()
        r = ks_2samp(reference, current)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        results.append({
            "name": name,
            "n1": int(reference.size),
            "n2": int(current.size),
            "statistic": float(r.statistic),
            "pValue": float(r.pvalue),
            "statisticLocation": float(r.statistic_location),
            "wallSeconds": wall,
            "cpuSeconds": cpu,
        })
    print(json.dumps({"scipy": scipy.__version__, "numpy": np.__version__, "python": sys.version.split()[0], "results": results}))


if __name__ == "__main__":
    main()
