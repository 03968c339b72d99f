#!/usr/bin/python3
"""The scikit-learn side of the k-means benchmark (bench/Orleans.MoE.Bench.Data, KMeansBenchmark.cs).

Run with Debian's python3-sklearn. The C# benchmark writes the features and the starting centroids
as raw little-endian float32 files and starts this script once per thread count:

    sklearn_kmeans.py FEATURES STARTS N D K ITERATIONS THREADS REPEATS

It fits sklearn.cluster.KMeans(init=STARTS, n_init=1, tol=0, algorithm="lloyd") with max_iter = 1
and with max_iter = 1 + ITERATIONS, each REPEATS times, under threadpoolctl's limit of THREADS
(OpenMP, which runs scikit-learn's Lloyd loop, and BLAS), and prints one line:

    ok <seconds per Lloyd iteration> <iterations of the long fit> <threads> <sklearn version>

The time per iteration is (fastest long fit - fastest short fit) / ITERATIONS, so that what every fit
does once (input checks, centring the data, the final assignment) is not counted, as on the C# side.
"""

import sys
import time
import warnings

import numpy as np
import sklearn
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits


def fastest(fit, repeats):
    best = float("inf")
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fit()
        best = min(best, time.perf_counter() - start)
    return best, result


def main():
    features_path, starts_path = sys.argv[1], sys.argv[2]
    n, d, k, iterations, threads, repeats = (int(a) for a in sys.argv[3:9])
    features = np.fromfile(features_path, dtype="<f4").reshape(n, d)
    starts = np.fromfile(starts_path, dtype="<f4").reshape(k, d)

    def fit(max_iter):
        return KMeans(n_clusters=k, init=starts, n_init=1, max_iter=max_iter, tol=0.0, algorithm="lloyd").fit(features)

    with threadpool_limits(limits=threads), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit(1)  # warm up
        one, _ = fastest(lambda: fit(1), repeats)
        many, model = fastest(lambda: fit(1 + iterations), repeats)
    print(f"ok {(many - one) / iterations:.9f} {model.n_iter_} {threads} {sklearn.__version__}", flush=True)


if __name__ == "__main__":
    main()
