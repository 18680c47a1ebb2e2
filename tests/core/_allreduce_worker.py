"""Run by torchrun in test_cluster.py: one gloo all_reduce, the result written per rank."""

import os
import sys

import torch
import torch.distributed as dist

dist.init_process_group("gloo")
rank, world = dist.get_rank(), dist.get_world_size()
value = torch.tensor([float(rank + 1)])
dist.all_reduce(value)
with open(os.path.join(sys.argv[1], f"rank{rank}.txt"), "w") as f:
    f.write(f"{world} {value.item():g} {os.environ['GROUP_RANK']}")
dist.destroy_process_group()
