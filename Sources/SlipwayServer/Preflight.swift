import SlipwayConfig
import SlipwayPlatform

#if canImport(Glibc)
import Glibc
#endif

/// Checks a valid config against this machine before anything starts: executables exist, working
/// directories exist, and (for `up`) the addresses the controller and the apps will own are free.
public enum Preflight {
    /// Problems that depend only on the files of this machine (what `slipway validate` also reports).
    public static func checkFiles(_ config: SlipwayConfig) -> [ConfigDiagnostic] {
        var diagnostics: [ConfigDiagnostic] = []
        for app in config.apps {
            if let name = app.run.command.first,
                case .failure(let error) = ExecutableResolver.resolve(name, baseDirectory: config.baseDirectory)
            {
                diagnostics.append(
                    ConfigDiagnostic(
                        file: config.file,
                        location: app.location("run.command[0]"),
                        keyPath: app.keyPath("run.command[0]"),
                        message: error.description
                    )
                )
            }
            if let directory = app.run.workingDirectory, !isDirectory(directory) {
                diagnostics.append(
                    ConfigDiagnostic(
                        file: config.file,
                        location: app.location("run.workingDir"),
                        keyPath: app.keyPath("run.workingDir"),
                        message: "working directory \"\(directory)\" does not exist"
                    )
                )
            }
        }
        return diagnostics
    }

    /// Problems with the addresses: each must be free to bind.
    public static func checkAddresses(_ config: SlipwayConfig) -> [ConfigDiagnostic] {
        var diagnostics: [ConfigDiagnostic] = []
        if let problem = bindProblem(config.controller.api) {
            diagnostics.append(
                ConfigDiagnostic(
                    file: config.file,
                    location: config.controller.location,
                    keyPath: "controller.api",
                    message: "\(config.controller.api) \(problem)"
                )
            )
        }
        for app in config.apps {
            if let problem = bindProblem(app.listen) {
                diagnostics.append(
                    ConfigDiagnostic(
                        file: config.file,
                        location: app.location("listen"),
                        keyPath: app.keyPath("listen"),
                        message: "\(app.listen) \(problem)"
                    )
                )
            }
        }
        return diagnostics
    }

    private static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Why `address` cannot be bound, or nil when it can.
    static func bindProblem(_ address: HostPort) -> String? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var results: UnsafeMutablePointer<addrinfo>?
        let host = address.host.trimmingCharacters(in: ["[", "]"])
        guard getaddrinfo(host, String(address.port), &hints, &results) == 0, let info = results else {
            return "cannot be resolved to a local address"
        }
        defer { freeaddrinfo(results) }
        let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return "cannot be checked: \(String(cString: strerror(errno)))" }
        defer { close(fd) }
        var reuse: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        if bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) != 0 {
            let reason =
                errno == EADDRINUSE ? "is already in use" : "cannot be bound: \(String(cString: strerror(errno)))"
            return reason
        }
        return nil
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Set<Character>) -> String {
        String(self.drop(while: { set.contains($0) }).reversed().drop(while: { set.contains($0) }).reversed())
    }
}
