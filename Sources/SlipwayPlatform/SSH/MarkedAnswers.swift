/// What a script run over SSH answered: each answer on a line of its own, `<marker><key> <value>`, so that nothing
/// else a host prints (a banner, a message of the day) is taken for one.
struct MarkedAnswers {
    /// Every answer, in the order printed.
    let pairs: [(key: String, value: String)]

    /// The answers in `output` whose lines start with `marker`.
    init(_ output: String, marker: String) {
        pairs = output.split(separator: "\n").compactMap { line in
            guard line.hasPrefix(marker) else { return nil }
            let parts = line.dropFirst(marker.count).split(separator: " ", maxSplits: 1)
            return (String(parts.first ?? ""), parts.count > 1 ? String(parts[1]) : "")
        }
    }

    /// The value of the first answer `key`; nil when there is none.
    func first(_ key: String) -> String? {
        pairs.first { $0.key == key }?.value
    }

    /// The values of every answer `key`, in order.
    func all(_ key: String) -> [String] {
        pairs.filter { $0.key == key }.map(\.value)
    }
}
