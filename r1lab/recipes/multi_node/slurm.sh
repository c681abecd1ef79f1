#!/bin/bash
# R1-Zero on several nodes: one `accelerate launch` per node (srun), each starting 8 training
# processes; together they train multi_node/r1_zero with DeepSpeed ZeRO-3.
#
# Hardware: 2 nodes x 8 x 80 GB GPUs (H100/A100), InfiniBand between nodes; the repository, its
#   Python environment (with deepspeed and vllm) and the Hugging Face cache (HF_HOME) on a
#   filesystem every node sees: checkpoints are written by all ranks into runs/.
# Time per step (estimate, not measured): ~1.5-2 min for multi_node/r1_zero; the reasoning is in
#   that recipe's header.
# Launch, from the repository root, with the environment activated (sbatch passes it on):
#   r1lab train multi_node/r1_zero --dry-run          # check the recipe first (no GPU needed)
#   sbatch r1lab/recipes/multi_node/slurm.sh          # extra arguments go to r1lab train:
#   sbatch r1lab/recipes/multi_node/slurm.sh --set trainer.max_steps=800
#   sbatch --nodes=4 r1lab/recipes/multi_node/slurm.sh  # 32 GPUs: 1,024 completions per step;
#       add --set trainer.gradient_accumulation_steps=8 to keep the paper's 512
# Environment overrides: RECIPE, ACCELERATE_CONFIG, GPUS_PER_NODE, MAIN_PROCESS_PORT.
# A requeued job resumes from its newest complete checkpoint (r1lab train's --resume auto).
#SBATCH --job-name=r1-zero
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=1
#SBATCH --gpus-per-node=8
#SBATCH --cpus-per-task=64
#SBATCH --exclusive
#SBATCH --time=24:00:00
#SBATCH --requeue
#SBATCH --output=%x-%j.out

set -euo pipefail
: "${SLURM_JOB_NODELIST:?submit this script with sbatch (it reads the Slurm allocation)}"

RECIPE=${RECIPE:-multi_node/r1_zero}
ACCELERATE_CONFIG=${ACCELERATE_CONFIG:-r1lab/recipes/accelerate/multi_node_zero3.yaml}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
MAIN_PROCESS_PORT=${MAIN_PROCESS_PORT:-29500}
# The first node of the allocation hosts the rendezvous (machine rank 0). No `| head -n 1`:
# under pipefail, head closing the pipe early can fail the job with SIGPIPE.
mapfile -t NODES < <(scontrol show hostnames "$SLURM_JOB_NODELIST")
MAIN_PROCESS_IP=${NODES[0]}
export RECIPE ACCELERATE_CONFIG GPUS_PER_NODE MAIN_PROCESS_PORT MAIN_PROCESS_IP

echo "r1-zero: $SLURM_NNODES nodes x $GPUS_PER_NODE GPUs, rendezvous at" \
     "$MAIN_PROCESS_IP:$MAIN_PROCESS_PORT, recipe $RECIPE"

# Single quotes: SLURM_NODEID is read on each node, inside the task srun starts there.
srun --nodes="$SLURM_NNODES" --ntasks-per-node=1 bash -c '
  accelerate launch \
    --config_file "$ACCELERATE_CONFIG" \
    --num_machines "$SLURM_NNODES" \
    --num_processes "$((SLURM_NNODES * GPUS_PER_NODE))" \
    --machine_rank "$SLURM_NODEID" \
    --main_process_ip "$MAIN_PROCESS_IP" \
    --main_process_port "$MAIN_PROCESS_PORT" \
    -m r1lab train "$RECIPE" "$@"
' r1-zero-node "$@"
