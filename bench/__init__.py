"""Speed and memory benchmarks (python -m bench.run)."""
