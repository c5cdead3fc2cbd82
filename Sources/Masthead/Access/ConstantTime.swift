/// Compares secrets (tokens, signatures) in a time that does not depend on where they differ,
/// so that timing answers tell an attacker nothing about how much of a guess was right.
enum ConstantTime {
    static func equal(_ a: String, _ b: String) -> Bool {
        let left = Array(a.utf8), right = Array(b.utf8)
        guard left.count == right.count else { return false }
        return zip(left, right).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
