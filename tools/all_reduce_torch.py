"""torch.distributed's all_reduce (gloo, on the CPU) between two processes on this machine:
the PyTorch side of `cargo xtask bench all-reduce`. Prints one JSON line per size,
{"seconds": median}, from rank 0.

    python tools/all_reduce_torch.py --elements 1000000,64000000 --rounds 5
"""

import argparse
import json
import os
import socket
import statistics
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def node(rank, port, sizes, rounds):
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    dist.init_process_group("gloo", rank=rank, world_size=2)
    for elements in sizes:
        buffer = torch.ones(elements)
        times = []
        for round_ in range(rounds + 1):
            summed = buffer.clone()
            started = time.perf_counter()
            dist.all_reduce(summed)
            elapsed = time.perf_counter() - started
            assert summed[0].item() == 2.0
            if round_ > 0:
                times.append(elapsed)
        if rank == 0:
            print(json.dumps({"seconds": statistics.median(times)}), flush=True)
    dist.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--elements", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(n) for n in args.elements.split(",")]
    mp.spawn(node, args=(free_port(), sizes, args.rounds), nprocs=2)


if __name__ == "__main__":
    main()
