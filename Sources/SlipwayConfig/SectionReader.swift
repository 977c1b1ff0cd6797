/// Reads the optional keys of a section, remembering which ones held a rejected value.
struct SectionReader {
    let fields: Fields
    private var rejected: Set<String> = []

    init(fields: Fields) {
        self.fields = fields
    }

    /// The value of `name` read by `read`; nil when the key is absent or its value was rejected.
    mutating func read<Value>(_ name: String, _ read: (Entry) -> Value?) -> Value? {
        guard let entry = fields[name] else { return nil }
        let value = read(entry)
        if value == nil {
            rejected.insert(name)
        }
        return value
    }

    /// Whether none of `names` held a rejected value.
    func accepted(_ names: String...) -> Bool {
        rejected.isDisjoint(with: names)
    }
}
