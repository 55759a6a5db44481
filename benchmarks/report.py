"""Turn a pytest-benchmark JSON file into the Markdown table the README quotes.

Usage: python benchmarks/report.py out/core.json
Each group's fastest artrestore entry is compared with each peer in the same run:
ratio = peer median / artrestore median (above 1 means artrestore is faster).
``print_and_save`` is the JSON output of the stand-alone scripts (gpu_unet.py, unet_ceiling.py).
"""
import json
import pathlib
import sys
from collections import defaultdict


def print_and_save(results: dict, out: str | None) -> None:
    """Print a stand-alone benchmark script's results as JSON and, given ``out``, write them there,
    with the versions of the libraries they depend on (``evaluation.library_versions``)."""
    from artrestore.evaluation import library_versions

    results = {**results, "libraries": results.get("libraries") or library_versions()}
    text = json.dumps(results, indent=2)
    print(text)
    if out:
        pathlib.Path(out).write_text(text + "\n")


def main(path: str) -> None:
    data = json.load(open(path))
    groups = defaultdict(list)
    for bench in data["benchmarks"]:
        groups[bench["group"]].append(bench)
    print(f"Machine: {data['machine_info'].get('cpu', {}).get('brand_raw', '?')}, "
          f"{data['machine_info'].get('cpu', {}).get('count', '?')} cores\n")
    print("| group | artrestore median | peer | peer median | speed-up |")
    print("|---|---|---|---|---|")
    for group, benches in groups.items():
        ours = [b for b in benches if "artrestore" in b["name"]]
        peers = [b for b in benches if "artrestore" not in b["name"]]
        if not ours:
            for b in benches:
                extra = ", ".join(f"{k} {v:.2f}" for k, v in b.get("extra_info", {}).items() if isinstance(v, float))
                print(f"| {group} | {b['name']} | | | {extra} |")
            continue
        mine = min(ours, key=lambda b: b["stats"]["median"])
        for peer in peers:
            name = peer["name"].split("[")[0].replace("test_", "")
            ratio = peer["stats"]["median"] / mine["stats"]["median"]
            print(f"| {group} | {mine['stats']['median'] * 1e3:.3f} ms | {name} | "
                  f"{peer['stats']['median'] * 1e3:.3f} ms | {ratio:.1f}x |")


if __name__ == "__main__":
    main(sys.argv[1])
