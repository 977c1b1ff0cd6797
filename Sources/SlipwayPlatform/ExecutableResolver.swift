#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds the file a command's first word names, the way a user expects without a shell.
///
/// A name with a `/` is a path (relative ones resolve against the config file's directory). A bare name is
/// looked up in `PATH`, then beside the running `slipway` executable, so the tools that ship with Slipway
/// (such as `slipway-demo-app`) are found wherever Slipway was built or installed.
public enum ExecutableResolver {
    /// The absolute path of the executable `name`, or why there is none.
    public static func resolve(
        _ name: String,
        baseDirectory: String,
        path: String? = currentPath()
    ) -> Result<String, LaunchError> {
        if name.contains("/") {
            let candidate = name.hasPrefix("/") ? name : join(baseDirectory, name)
            guard exists(candidate) else { return .failure(.executableNotFound(name, searched: [candidate])) }
            return isExecutableFile(candidate) ? .success(candidate) : .failure(.notExecutable(candidate))
        }
        var searched: [String] = []
        var directories = (path ?? "").split(separator: ":").map(String.init).filter { !$0.isEmpty }
        if let own = ownDirectory() { directories.append(own) }
        for directory in directories {
            let candidate = join(directory, name)
            searched.append(directory)
            if isExecutableFile(candidate) { return .success(candidate) }
        }
        return .failure(.executableNotFound(name, searched: searched))
    }

    /// The `PATH` of this process.
    public static func currentPath() -> String? {
        getenv("PATH").map { String(cString: $0) }
    }

    /// The directory holding the running executable.
    public static func ownDirectory() -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        let bytes = buffer[..<count].map { UInt8(bitPattern: $0) }
        let path = String(decoding: bytes, as: UTF8.self)
        guard let slash = path.lastIndex(of: "/") else { return nil }
        return String(path[..<slash])
    }

    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    static func isExecutableFile(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return false }
        return access(path, X_OK) == 0
    }
}
