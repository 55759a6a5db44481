"""Ray Data (artrestore.cluster) against the single-machine batch, same images, same worker count.

Usage: python benchmarks/cluster_throughput.py [--images 200] [--size 1024] [--repeats 3] [--out FILE.json]

Inputs: ``--images`` light-damage images (the shared clean photographs, or scikit-image's when
those are absent, resized to ``--size`` px on the long side, damaged with ``synthesize_damage`` at
"light"), written as PNG. Every run restores all of them into an empty folder with
``strategy="auto"`` and ``use_dl=False`` (the classical paths). Peers, interleaved over
``--repeats`` rounds so drift in machine load hits all alike:

- ``batch_k``: ``HybridRestorer.batch_restore(workers=k)`` (k threads of one process);
- ``ray_k``: ``restore_dataset(workers=k)`` on a local Ray started once beforehand with
  ``num_cpus=2`` (a cluster is up before a job comes), so each run includes starting its k actors.

Reported per peer (medians over rounds): ``images_per_s`` end to end (call to return),
``steady_images_per_s`` (from the first output written to the last, which leaves out start-up:
actor start for Ray, nothing much for threads); for the batch, ``cpu_ms_per_image`` (CPU time of
its threads per image: the per-image cost in the sizing rule of serving/DEPLOY.md); for Ray, the
CPU time per image of its workers (sampled; includes their start-up) and the driver's overhead per
image: CPU time of the driver process and of Ray's own processes (GCS, raylet, ...; not the
workers) divided by the images. ``cores_obtained`` (batch: CPU time over wall time) shows how much
of the machine the run actually got. Ratios: ray_2 / ray_1 and ray_k / batch_k. Load averages
before and after say how busy the (shared) machine was.
"""
import argparse
import os
import pathlib
import platform
import shutil
import statistics
import sys
import tempfile
import time

import cv2

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "python"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests"))

from report import print_and_save  # benchmarks/report.py, beside this script

WORKERS = (1, 2)


BATCH_SIZE = [0]  # images per Ray task, set from the command line


def make_images(folder: pathlib.Path, count: int, size: int) -> dict:
    """Write the light-damage inputs; returns where they came from and their mean size in megapixels."""
    from artrestore.imageio import read_image, write_image
    from artrestore.training.synthesis import synthesize_damage
    from conftest import CLEAN_DIR  # ARTRESTORE_DATA, else ../shared/data beside the repository

    paths = sorted(p for p in CLEAN_DIR.glob("*/*") if p.suffix.lower() in (".png", ".jpg", ".bmp"))
    if paths:
        bases, source = [read_image(p) for p in paths], f"{len(paths)} photographs under {CLEAN_DIR}"
    else:
        from skimage import data

        bases = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket()]
        source = "scikit-image's astronaut, coffee, chelsea, rocket"
    megapixels = []
    for i in range(count):
        base = bases[i % len(bases)]
        scale = size / max(base.shape[:2])
        resized = cv2.resize(base, (round(base.shape[1] * scale), round(base.shape[0] * scale)),
                             interpolation=cv2.INTER_CUBIC)
        megapixels.append(resized.shape[0] * resized.shape[1] / 1e6)
        write_image(folder / f"light_{i:04d}.png", synthesize_damage(resized, "light", seed=i)[0])
    return {"source": source, "megapixels_mean": statistics.fmean(megapixels)}


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            return next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.machine()


def _cpu_seconds(pids) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def _ray_processes() -> tuple[list[int], list[int]]:
    """(Ray's own processes, Ray's worker processes) started by this driver; workers' titles start 'ray::'."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    parents[int(entry)] = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    found, frontier = [], {os.getpid()}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found += frontier
    system, workers = [], []
    for pid in found:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                (workers if fh.read().startswith(b"ray::MapWorker") else system).append(pid)
        except OSError:
            pass
    return [p for p in system if p not in workers], workers


class _WorkerCpu:
    """Samples the CPU time of the run's Ray Data actors every 0.2 s (they exit with the run, and
    a dead child's time is no longer readable), keeping each one's last value."""

    def __init__(self):
        import threading

        self.last, self._stop = {}, threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self):
        while not self._stop.wait(0.2):
            for pid in _ray_processes()[1]:
                self.last[pid] = max(self.last.get(pid, 0.0), _cpu_seconds([pid]))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return sum(self.last.values())


def _steady_rate(out: pathlib.Path) -> float:
    stamps = sorted(p.stat().st_mtime for p in out.glob("*_restored.png"))
    return (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 and stamps[-1] > stamps[0] else float("nan")


def run_once(kind: str, workers: int, src: pathlib.Path, scratch: pathlib.Path, restorer) -> dict:
    from artrestore.cluster import restore_dataset

    out = scratch / f"{kind}_{workers}"
    shutil.rmtree(out, ignore_errors=True)
    load = os.getloadavg()[0]
    system = _ray_processes()[0] if kind == "ray" else []
    sampler = _WorkerCpu() if kind == "ray" else None
    cpu_driver, cpu_system = time.process_time(), _cpu_seconds(system)
    start = time.perf_counter()
    if kind == "batch":
        rows = restorer.batch_restore(src, out, workers=workers, progress=False)
    else:
        rows = restore_dataset(src, out, workers=workers, use_dl=False, batch_size=BATCH_SIZE[0])
    wall = time.perf_counter() - start
    worker_cpu = sampler.stop() if sampler else None
    n = sum(r["status"] == "restored" for r in rows)
    assert n == len(rows), "every image must be restored"
    result = {"images_per_s": n / wall, "steady_images_per_s": _steady_rate(out), "wall_s": wall}
    result["load_average_1min_at_start"] = load
    if kind == "batch":  # the threads' CPU time: what one image costs a core, whatever the contention
        cpu = time.process_time() - cpu_driver
        result["cpu_ms_per_image"] = 1e3 * cpu / n
        result["cores_obtained"] = cpu / wall  # < workers when the machine is shared
    else:
        # Includes each actor's start-up (imports, router); sampled, so it may miss < 0.2 s per actor.
        result["worker_cpu_ms_per_image"] = 1e3 * worker_cpu / n
        result["driver_cpu_ms_per_image"] = 1e3 * (time.process_time() - cpu_driver) / n
        result["ray_system_cpu_ms_per_image"] = 1e3 * (_cpu_seconds(system) - cpu_system) / n
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out")
    parser.add_argument("--batch-size", type=int, default=None, help="images per Ray task (default: the library's)")
    args = parser.parse_args()
    from artrestore.cluster import DEFAULT_BATCH_SIZE

    BATCH_SIZE[0] = args.batch_size or DEFAULT_BATCH_SIZE

    import logging

    import ray

    from artrestore.restorer import HybridRestorer

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="artrestore-cluster-bench-") as tmp:
        scratch = pathlib.Path(tmp)
        inputs = make_images(scratch / "in", args.images, args.size)
        restorer = HybridRestorer(use_dl=False)
        ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
        restorer.batch_restore(scratch / "in", scratch / "warm", workers=2, progress=False)  # page cache, imports
        runs = {f"{kind}_{k}": [] for kind in ("batch", "ray") for k in WORKERS}
        for round_ in range(args.repeats):
            order = [(kind, k) for k in WORKERS for kind in ("batch", "ray")]
            for kind, k in (order if round_ % 2 == 0 else order[::-1]):
                runs[f"{kind}_{k}"].append(run_once(kind, k, scratch / "in", scratch, restorer))
        ray.shutdown()

    peers = {name: {key: statistics.median(r[key] for r in rs) for key in rs[0]} for name, rs in runs.items()}
    ratios = {}
    for metric in ("images_per_s", "steady_images_per_s"):
        ratios[f"ray_2_over_ray_1 ({metric})"] = peers["ray_2"][metric] / peers["ray_1"][metric]
        ratios[f"batch_2_over_batch_1 ({metric})"] = peers["batch_2"][metric] / peers["batch_1"][metric]
        for k in WORKERS:
            ratios[f"ray_{k}_over_batch_{k} ({metric})"] = peers[f"ray_{k}"][metric] / peers[f"batch_{k}"][metric]
    print_and_save({
        "machine": {"cpu": _cpu_model(), "cores": os.cpu_count(),
                    "load_average_before": load_before, "load_average_after": os.getloadavg(),
                    "note": "shared with other jobs: load averages above the core count mean contention"},
        "images": args.images, "size_px": args.size, "repeats": args.repeats, "ray_batch_size": BATCH_SIZE[0], "inputs": inputs,
        "peers": peers, "ratios": ratios, "runs": runs,
    }, args.out)


if __name__ == "__main__":
    main()
