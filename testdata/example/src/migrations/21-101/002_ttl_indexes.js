// EnsureLinkNotMergeShardingAndTtlMigration, part 2: TTL indexes.
db.events.createIndex({ createdAt: 1 }, { expireAfterSeconds: 2592000, name: "ttl_events_30d" });
