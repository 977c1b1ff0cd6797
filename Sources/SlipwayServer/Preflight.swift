import SlipwayConfig
import SlipwayPlatform

#if canImport(Glibc)
import Glibc
#endif

/// Checks a valid config against this machine before anything starts: executables exist, working
/// directories exist, the API is not open to other machines without a token, and (for `up`) the addresses
/// the controller and the apps will own are free.
public enum Preflight {
    /// Problems that depend only on the config and the files of this machine (what `slipway validate` also
    /// reports): missing executables and working directories, and an exposed API without a token
    /// (`checkExposure`).
    public static func checkFiles(_ config: SlipwayConfig) -> [ConfigDiagnostic] {
        var diagnostics = checkExposure(config)
        for app in config.apps {
            // An app on hosts or on Kubernetes runs its command there: this machine's files say nothing about it.
            if app.hosts.isEmpty, app.kubernetes == nil, let name = app.run.command.first,
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
            diagnostics += checkHooks(app, config: config)
            diagnostics += checkSecrets(app, config: config)
            if app.hosts.isEmpty, app.kubernetes == nil, let directory = app.run.workingDirectory,
                !isDirectory(directory)
            {
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
        // An app's settings are checked once per environment it runs in; a problem in a shared setting is one.
        var seen: Set<String> = []
        return diagnostics.filter { seen.insert($0.description).inserted }
    }

    /// Hook programs that cannot be found, and working directories that do not exist.
    private static func checkHooks(_ app: AppSpec, config: SlipwayConfig) -> [ConfigDiagnostic] {
        var diagnostics: [ConfigDiagnostic] = []
        for point in HookPoint.allCases {
            for hook in app.hooks[point] {
                guard case .command(let command) = hook.action else { continue }
                let relative =
                    hook.keyPath.hasPrefix(app.path + ".") ? String(hook.keyPath.dropFirst(app.path.count + 1)) : ""
                if let name = command.argv.first,
                    case .failure(let error) = ExecutableResolver.resolve(name, baseDirectory: config.baseDirectory)
                {
                    let path = relative.isEmpty ? "command[0]" : relative + ".command[0]"
                    diagnostics.append(
                        ConfigDiagnostic(
                            file: config.file,
                            location: app.location(path),
                            keyPath: app.keyPath(path),
                            message: error.description
                        )
                    )
                }
                if let directory = command.workingDirectory, !isDirectory(directory) {
                    let path = relative.isEmpty ? "workingDir" : relative + ".workingDir"
                    diagnostics.append(
                        ConfigDiagnostic(
                            file: config.file,
                            location: app.location(path),
                            keyPath: app.keyPath(path),
                            message: "working directory \"\(directory)\" does not exist"
                        )
                    )
                }
            }
        }
        return diagnostics
    }

    /// Secrets (notification and webhook gate URLs) that cannot be read on this machine.
    private static func checkSecrets(_ app: AppSpec, config: SlipwayConfig) -> [ConfigDiagnostic] {
        var sources: [(keyPath: String, source: SecretSource)] = app.notifications.map { ($0.urlKeyPath, $0.url) }
        for point in HookPoint.allCases {
            for hook in app.hooks[point] {
                if case .gate(let gate) = hook.action { sources.append((hook.keyPath + ".webhook.url", gate.url)) }
            }
        }
        return sources.compactMap { keyPath, source -> ConfigDiagnostic? in
            do {
                _ = try SecretResolver.url(source)
                return nil
            } catch {
                return ConfigDiagnostic(
                    file: config.file,
                    location: .unknown,
                    keyPath: keyPath,
                    message: "\(error)"
                )
            }
        }
    }

    /// Problems with the addresses: each must be free to bind.
    /// - Parameter servedByDataPlane: a data plane already serves the state directory, so the apps' addresses are
    ///   its to keep (it is told to, or says why it cannot).
    public static func checkAddresses(_ config: SlipwayConfig, servedByDataPlane: Bool = false) -> [ConfigDiagnostic] {
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
        // An app on hosts listens there, not here.
        for app in config.apps where !servedByDataPlane && app.hosts.isEmpty {
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

    /// The API open to other machines with no token: `controller.api` on an address other than a loopback one
    /// (127.0.0.0/8, ::1, localhost) while `controller.token` is not set would let anyone who can reach it
    /// deploy, promote and roll back.
    public static func checkExposure(_ config: SlipwayConfig) -> [ConfigDiagnostic] {
        let api = config.controller.api
        guard config.controller.token == nil, !isLoopback(api.host) else { return [] }
        return [
            ConfigDiagnostic(
                file: config.file,
                location: config.controller.location,
                keyPath: "controller.api",
                message: "\(api) is reachable from other machines, so controller.token is required: set "
                    + "controller.token ({env: NAME} or {file: PATH}), or bind controller.api to a loopback "
                    + "address such as 127.0.0.1:\(api.port)"
            )
        ]
    }

    /// Whether `host` can only be reached from this machine: `localhost`, an address in 127.0.0.0/8, `::1`,
    /// or an IPv4-mapped 127.0.0.0/8 address.
    static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: ["[", "]"])
        if bare.lowercased() == "localhost" || bare.lowercased() == "localhost." { return true }
        var ipv4 = in_addr()
        if inet_pton(AF_INET, bare, &ipv4) == 1 {
            return withUnsafeBytes(of: &ipv4) { $0[0] == 127 }
        }
        var ipv6 = in6_addr()
        guard inet_pton(AF_INET6, bare, &ipv6) == 1 else { return false }
        return withUnsafeBytes(of: &ipv6) { bytes in
            let loopback = bytes.prefix(15).allSatisfy { $0 == 0 } && bytes[15] == 1
            let mappedPrefix: [UInt8] = Array(repeating: 0, count: 10) + [0xFF, 0xFF]
            let mapped = Array(bytes.prefix(12)) == mappedPrefix && bytes[12] == 127
            return loopback || mapped
        }
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
