// EnsureLinkNotMergeShardingAndTtlMigration, part 1: shard keys.
db.adminCommand({ shardCollection: "concelier.observations", key: { tenant: 1, _id: "hashed" } });
db.adminCommand({ shardCollection: "concelier.linksets", key: { tenant: 1, _id: "hashed" } });
