// Backfill linksets and tombstones for Link-Not-Merge.
const batchSize = Number(process.env.BATCH_SIZE || 500);
print(`backfill: batch size ${batchSize}`);
