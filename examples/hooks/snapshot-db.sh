#!/bin/sh
# preDeploy: keep a copy of the database before a new version can touch it.
# Slipway runs this without a shell of its own; the rollout's facts are in SLIPWAY_* variables.
set -eu
mkdir -p snapshots
name="snapshots/${SLIPWAY_APP}-rollout-${SLIPWAY_ROLLOUT}-before-${SLIPWAY_CANDIDATE_VERSION}.txt"
echo "snapshot of the ${SLIPWAY_APP} database taken before ${SLIPWAY_STABLE_VERSION} → ${SLIPWAY_CANDIDATE_VERSION}" > "$name"
echo "snapshot written to $name"
