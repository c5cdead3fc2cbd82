/// A bounded map that forgets what has not been used for longest, approximately and in O(1):
/// entries live in a recent and an older half; when the recent half fills (by count, or by the
/// bytes its entries cost), the older half is dropped and the recent one takes its place, and an
/// older entry that is used moves back to the recent half. A page read at least once while half
/// the capacity of other pages is added survives, so a flood of distinct URLs cannot push out
/// the pages everyone reads, and a flood of large answers cannot hold more than the byte budget.
struct RecentlyUsed<Key: Hashable, Value> {
    private var recent: [Key: (value: Value, cost: Int)] = [:]
    private var older: [Key: (value: Value, cost: Int)] = [:]
    private var recentCost = 0
    private let halfCapacity: Int
    private let halfBudget: Int

    init(capacity: Int, byteBudget: Int = .max) {
        halfCapacity = max(1, capacity / 2)
        halfBudget = max(1, byteBudget / 2)
    }

    mutating func value(for key: Key) -> Value? {
        if let entry = recent[key] { return entry.value }
        guard let entry = older.removeValue(forKey: key) else { return nil }
        insert(entry.value, for: key, cost: entry.cost)
        return entry.value
    }

    mutating func insert(_ value: Value, for key: Key, cost: Int = 0) {
        if recent[key] == nil, recent.count >= halfCapacity || recentCost + cost > halfBudget {
            older = recent
            recent = [:]
            recent.reserveCapacity(halfCapacity)
            recentCost = 0
        }
        older.removeValue(forKey: key)
        recentCost += cost - (recent[key]?.cost ?? 0)
        recent[key] = (value, cost)
    }

    mutating func removeValue(for key: Key) {
        if let removed = recent.removeValue(forKey: key) { recentCost -= removed.cost }
        older.removeValue(forKey: key)
    }

    mutating func removeAll() {
        recent.removeAll(keepingCapacity: true)
        older.removeAll()
        recentCost = 0
    }
}
