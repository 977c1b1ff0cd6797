/// Building and taking apart key paths like `apps[0].run.command[2]`.
enum KeyPath {
    /// `parent.child`, or just one of them when the other is empty. `child` may start with an index like `[2]`.
    static func join(_ parent: String, _ child: String) -> String {
        if parent.isEmpty {
            return child
        }
        if child.isEmpty {
            return parent
        }
        return child.hasPrefix("[") ? parent + child : parent + "." + child
    }

    /// The path of the `index`-th element of the list at `path`.
    static func element(_ path: String, _ index: Int) -> String {
        path + "[\(index)]"
    }

    /// The path one level up: `run.command` for `run.command[3]`, `health` for `health.interval`, "" for `name`.
    static func parent(of path: String) -> String {
        if path.hasSuffix("]"), let open = path.lastIndex(of: "[") {
            return String(path[..<open])
        }
        if let dot = path.lastIndex(of: ".") {
            return String(path[..<dot])
        }
        return ""
    }
}
