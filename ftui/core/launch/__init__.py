"""Starting a run: the detached launch, torchrun argv, multi-node and Slurm, sharding, the supervisor."""
