/// A bounded map that forgets what has not been used for longest, approximately and in O(1):
/// entries live in a recent and an older half; when the recent half fills, the older half is
/// dropped and the recent one takes its place, and an older entry that is used moves back to
/// the recent half. A page read at least once while `capacity / 2` other pages are added
/// survives, so a flood of distinct URLs cannot push out the pages everyone reads.
struct RecentlyUsed<Key: Hashable, Value> {
    private var recent: [Key: Value] = [:]
    private var older: [Key: Value] = [:]
    private let halfCapacity: Int

    init(capacity: Int) {
        halfCapacity = max(1, capacity / 2)
    }

    mutating func value(for key: Key) -> Value? {
        if let value = recent[key] { return value }
        guard let value = older.removeValue(forKey: key) else { return nil }
        insert(value, for: key)
        return value
    }

    mutating func insert(_ value: Value, for key: Key) {
        if recent.count >= halfCapacity, recent[key] == nil {
            older = recent
            recent = [:]
            recent.reserveCapacity(halfCapacity)
        }
        older.removeValue(forKey: key)
        recent[key] = value
    }

    mutating func removeValue(for key: Key) {
        recent.removeValue(forKey: key)
        older.removeValue(forKey: key)
    }

    mutating func removeAll() {
        recent.removeAll(keepingCapacity: true)
        older.removeAll()
    }
}
