// Roll back the 21-102 backfill. If the result is inconsistent, restore the backup.
db.linksets.deleteMany({ backfilledBy: "21-102" });
