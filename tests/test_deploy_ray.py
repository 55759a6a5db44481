"""serving/kuberay-raycluster.yaml and the Ray section of serving/DEPLOY.md agree with each other,
with serving/Dockerfile.ray and with the measured benchmark they quote."""
import json
import pathlib
import re

import pytest

yaml = pytest.importorskip("yaml")
REPO = pathlib.Path(__file__).resolve().parents[1]
MANIFEST = REPO / "serving" / "kuberay-raycluster.yaml"
RESULTS = REPO / "benchmarks" / "results" / "cluster_cpu.json"


@pytest.fixture(scope="module")
def docs():
    loaded = list(yaml.safe_load_all(MANIFEST.read_text()))
    return {d["kind"]: d for d in loaded}


def _containers(template):
    return template["spec"]["containers"]


def test_raycluster_matches_its_image_and_schedules_work_on_workers_only(docs):
    cluster = docs["RayCluster"]
    assert cluster["apiVersion"] == "ray.io/v1"
    base = re.search(r"ARG BASE=rayproject/ray:([\d.]+)-py", (REPO / "serving" / "Dockerfile.ray").read_text())
    assert base and cluster["spec"]["rayVersion"] == base.group(1)
    assert cluster["spec"]["headGroupSpec"]["rayStartParams"]["num-cpus"] == "0"
    groups = {g["groupName"]: g for g in cluster["spec"]["workerGroupSpecs"]}
    for group in groups.values():
        assert group["minReplicas"] <= group["replicas"] <= group["maxReplicas"]
        for container in _containers(group["template"]):
            assert container["resources"]["requests"] == container["resources"]["limits"]
    cpu = _containers(groups["cpu"]["template"])[0]
    assert {"name": "OMP_NUM_THREADS", "value": "1"} in cpu["env"]
    assert _containers(groups["gpu"]["template"])[0]["resources"]["limits"]["nvidia.com/gpu"] == 1


def test_unet_service_reaches_the_tf_serving_pods_at_the_documented_address(docs):
    deployment, service = docs["Deployment"], docs["Service"]
    assert service["spec"]["selector"] == deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["clusterIP"] == "None"  # headless: per-request balancing (DEPLOY.md section 4)
    grpc_port = next(p for p in _containers(deployment["spec"]["template"])[0]["ports"] if p["name"] == "grpc")
    address = f"grpc://{service['metadata']['name']}:{grpc_port['containerPort']}"
    assert address in (REPO / "serving" / "DEPLOY.md").read_text()


def test_deploy_quotes_the_measured_benchmark():
    if not RESULTS.is_file():
        pytest.skip("run benchmarks/cluster_throughput.py --out benchmarks/results/cluster_cpu.json")
    results = json.loads(RESULTS.read_text())
    text = (REPO / "serving" / "DEPLOY.md").read_text()
    assert "BENCH_" not in text, "placeholders left in DEPLOY.md"
    c_cpu = results["peers"]["batch_1"]["cpu_ms_per_image"]
    per_megapixel = c_cpu / results["inputs"]["megapixels_mean"]
    assert f"{c_cpu:.1f} ms" in text and f"{per_megapixel:.1f} ms per megapixel" in text
    cores = 1e6 * 12 * per_megapixel / 1e3 / (86400 * 0.6)  # the worked example: 1 M scans of 12 MP a day
    assert f"= {cores:.1f} cores" in text
