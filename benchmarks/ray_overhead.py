"""Benchmark: what Ray costs at the interactive size and what a second node buys at paper size.

    .venv/bin/python benchmarks/ray_overhead.py [--cells 4] [--epochs 1] [--write docs/performance.md]

1. The interactive Experiment-1 sweep (its rho x seeds cells, one chunk) in this process and as a
   Ray task on a new local Ray (every core), side by side in one run: a first run (the Ray
   worker starts and imports torch) and the best of three more (a warm worker), their ratio, and
   `ray.init` timed apart. The CSVs are compared byte for byte.
2. A sweep of paper-shape chunks (d = 4096, hidden 512, latent 64, 15,000 training pairs, Adam
   1e-4; 2,000 val / ID / OOD pairs so that it finishes in minutes on 2 cores), one cell per
   chunk, on a one-node and then on a two-node Ray cluster on this machine (Ray's own
   `ray.cluster_utils.Cluster` harness, 1 CPU per node): the wall time of each, the speed-up,
   where the chunks ran, how many cores they kept busy (their CPU seconds over the wall time:
   what the machine could give them), and whether the CSVs are the same. Each cluster is new (cold
   workers); its start-up is timed apart.

Ray runs its workers at niceness 15 by default: on a machine busy with other work they would
get less of the CPU than the in-process run they are compared with, so this benchmark starts
its Rays with RAY_worker_niceness=0 (the 1-minute load average is printed beside each run).
No assertion on time; with --write the table replaces the ray block of docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from doc_block import write_block  # noqa: E402

from causalpref.run import backends, ray_backend  # noqa: E402
from causalpref.run import sweep as sweep_module  # noqa: E402
from causalpref.run.specs import Exp1Spec, SplitSizes  # noqa: E402
from causalpref.run.sweep import run_sweep  # noqa: E402

REPEATS = 3  # warm runs: the best of these (a shared machine's noise is one-sided)


def csv_text(sweep) -> dict[str, str]:
    return {name: frame.to_csv(index=False) for name, frame in {"results": sweep.results, **sweep.details}.items()}


def timed(run):
    started = time.perf_counter()
    value = run()
    return value, time.perf_counter() - started


def load() -> float:
    """The 1-minute load average: other work on the machine shows in the seconds, not the CSV."""
    return os.getloadavg()[0]


def interactive(lines: list[str]) -> None:
    spec = Exp1Spec(device="cpu")
    load_before = load()
    cells = len(spec.rhos) * len(spec.seeds)
    local_first, t_local_first = timed(lambda: run_sweep(spec))
    t_local_again = min(timed(lambda: run_sweep(spec))[1] for _ in range(REPEATS))
    cpus = os.cpu_count()
    _, t_init = timed(lambda: ray_backend.connect(backends.Choice("ray"), num_cpus=cpus))
    choice = backends.choose("ray")
    ray_first, t_ray_first = timed(lambda: ray_backend.run_sweep_on_ray(spec, choice=choice))
    t_ray_again = min(timed(lambda: ray_backend.run_sweep_on_ray(spec, choice=choice))[1] for _ in range(REPEATS))
    ray_backend.shutdown()
    same = csv_text(ray_first) == csv_text(local_first)
    lines += [
        f"1. Interactive Experiment-1 sweep ({cells} cells x {len(spec.models)} model, one chunk); "
        f"same CSV local and Ray: {'yes' if same else 'NO'}",
        f"   ray.init (a new local Ray, {cpus} CPUs): {t_init:.1f} s, apart from the runs below; "
        f"load average {load_before:.1f} at the start",
        f"                         first run (s)   again, best of {REPEATS} (s)",
        f"   local, in process    {t_local_first:>13.1f}   {t_local_again:>19.1f}",
        f"   Ray, local (1 task)  {t_ray_first:>13.1f}   {t_ray_again:>19.1f}",
        f"   Ray / local          {t_ray_first / t_local_first:>13.2f}   {t_ray_again / t_local_again:>19.2f}",
    ]
    print("\n".join(lines), flush=True)


def paper_shape(cells: int, epochs: int, lines: list[str]) -> None:
    from ray.cluster_utils import Cluster

    base = Exp1Spec.paper_size(device="cpu")
    spec = replace(
        base,
        rhos=tuple(round(0.9 * i / max(cells - 1, 1), 3) for i in range(cells)),  # 0 ... 0.9
        seeds=(0,),
        sizes=SplitSizes(train=15_000, val=2_000, id=2_000, ood=2_000),
        train=replace(base.train, epochs=epochs),
    )
    sweep_module.CPU_CHUNK_BYTES = spec.sizes.total_pairs() * 2 * spec.world.dim * 4  # one cell per chunk
    rows, results = [], {}
    for nodes in (1, 2):
        load_before = load()
        started = time.perf_counter()
        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
        for _ in range(nodes - 1):
            cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        choice = backends.choose("ray", cluster.address)
        ray_backend.connect(choice)
        t_start = time.perf_counter() - started
        try:
            results[nodes], seconds = timed(lambda choice=choice: ray_backend.run_sweep_on_ray(spec, choice=choice))
            per_node: dict[str, int] = {}
            for chunk in ray_backend.last_run():
                per_node[chunk["node"]] = per_node.get(chunk["node"], 0) + 1
            split = "+".join(str(n) for n in sorted(per_node.values(), reverse=True))
            cores = sum(chunk["cpu_seconds"] for chunk in ray_backend.last_run()) / seconds
            rows.append((nodes, t_start, seconds, split, cores, load_before))
            print(f"   {nodes} node(s): {seconds:.1f} s (cluster up in {t_start:.1f} s)", flush=True)
        finally:
            ray_backend.shutdown()
            cluster.shutdown()
    same = csv_text(results[1]) == csv_text(results[2])
    lines += [
        "",
        f"2. Paper-shape sweep: d = {spec.world.dim}, hidden {spec.model.hidden}, latent {spec.model.latent}, "
        f"{spec.sizes.train:,} training pairs, {epochs} epoch(s), {len(spec.rhos)} cells, one per chunk; "
        f"same CSV on 1 and 2 nodes: {'yes' if same else 'NO'}",
        "   nodes  CPUs  chunks per node  cluster start (s)  sweep (s)  speed-up  cores busy  load average at start",
    ]
    first = rows[0][2]
    for nodes, t_start, seconds, split, cores, load_before in rows:
        lines.append(
            f"   {nodes:>5}  {nodes:>4}  {split:>15}  {t_start:>17.1f}  {seconds:>9.1f}  {first / seconds:>8.2f}"
            f"  {cores:>10.2f}  {load_before:>21.1f}"
        )
    lines.append(
        "   cores busy: the chunks' CPU seconds per second of the sweep; below the node count, the "
        "machine's other work had the rest"
    )
    print("\n".join(lines[-len(rows) - 3 :]), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", type=int, default=4, help="paper-shape cells (one chunk each; default 4)")
    parser.add_argument("--epochs", type=int, default=1, help="epochs of each paper-shape model (default 1)")
    parser.add_argument("--skip-paper", action="store_true", help="only the interactive comparison")
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    os.environ.setdefault("RAY_worker_niceness", "0")  # like with like: the local run is not niced
    lines: list[str] = []
    interactive(lines)
    if not args.skip_paper:
        paper_shape(args.cells, args.epochs, lines)
    text = "\n".join(lines)
    print("\n" + text)
    if args.write:
        command = f"python benchmarks/ray_overhead.py --write {args.write.as_posix()}"
        if args.cells != 4 or args.epochs != 1:
            command = command.replace(" --write", f" --cells {args.cells} --epochs {args.epochs} --write")
        write_block(args.write, "ray", text, command)


if __name__ == "__main__":
    main()
