import Foundation

/// Turning paths written in the configuration file into absolute, tidy paths.
enum PathResolution {
    /// `path` made absolute against `base` (itself made absolute against the current directory if needed),
    /// with `.` and `..` components and repeated slashes removed. Symbolic links are left alone.
    static func absolute(_ path: String, base: String) -> String {
        if path.hasPrefix("/") {
            return normalize(path)
        }
        let absoluteBase = base.hasPrefix("/") ? base : FileManager.default.currentDirectoryPath + "/" + base
        return normalize(absoluteBase + "/" + path)
    }

    /// Removes `.`, `..` and empty components of an absolute path.
    static func normalize(_ path: String) -> String {
        var components: [Substring] = []
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch component {
            case ".":
                continue
            case "..":
                _ = components.popLast()
            default:
                components.append(component)
            }
        }
        return "/" + components.joined(separator: "/")
    }
}
