import ArgumentParser
import Foundation
import SlipwayConfig
import SlipwayCore

/// How a command reaches a running controller: `--url`, else `SLIPWAY_URL`, else the config's `controller.api`;
/// and who asks: `--by`, else `$USER`.
struct ControllerOptions: ParsableArguments {
    @OptionGroup var config: ConfigOptions

    @Option(
        help: ArgumentHelp(
            "The controller's API, like http://127.0.0.1:7070 (default: $SLIPWAY_URL, then the config's controller.api).",
            valueName: "url"
        )
    )
    var url: String?

    @Option(
        help: ArgumentHelp(
            "The API token (default: $SLIPWAY_TOKEN, then the config's controller.token). Prefer the variable: a "
                + "flag's value shows in the process list.",
            valueName: "token"
        )
    )
    var token: String?

    @Option(help: "Who asks, as the event log records it (default: the CI job's actor, else $USER@host).")
    var by: String?

    /// Who asks: `--by`, else the CI job's actor (`octocat (GitHub Actions)`), else `user@host`, so that the log
    /// never says "?".
    var user: String {
        if let by, !by.isEmpty { return by }
        let environment = ProcessInfo.processInfo.environment
        if let actor = ReleaseMetadata.ciActor(in: environment) { return actor }
        let name = [environment["USER"], environment["LOGNAME"]].compactMap { $0 }.first { !$0.isEmpty }
        let host = ProcessInfo.processInfo.hostName
        return "\(name ?? "uid \(getuid())")@\(host.isEmpty ? "localhost" : host)"
    }

    /// The controller to talk to, or a message and exit 2 when its address or the config is unusable.
    func endpoint(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ControllerEndpoint {
        let given = url ?? environment["SLIPWAY_URL"].flatMap { $0.isEmpty ? nil : $0 }
        // With an address given, the config is read only for its token, and only when it exists.
        let spec: SlipwayConfig? =
            given == nil || FileManager.default.fileExists(atPath: config.file) ? try config.load() : nil
        let token =
            self.token ?? environment["SLIPWAY_TOKEN"].flatMap { $0.isEmpty ? nil : $0 } ?? spec.flatMap(Self.token)
        if let given {
            guard let endpoint = ControllerEndpoint(url: given, token: token) else {
                let source = url == nil ? "SLIPWAY_URL" : "--url"
                FileHandle.standardErrorWrite(
                    "error: \(source): expected a URL like http://127.0.0.1:7070, got \"\(given)\""
                )
                throw ExitCode(ExitStatus.badInput)
            }
            return endpoint
        }
        // `given == nil` means the config was loaded above.
        let api = spec?.controller.api ?? ControllerSpec.defaultAPI
        let host = api.host == "0.0.0.0" ? "127.0.0.1" : api.host == "::" ? "::1" : api.host
        let address = HostPort(host: host, port: api.port)
        return ControllerEndpoint(base: "http://\(address)", address: address.description, token: token)
    }

    /// The API token the config names, if it can be read.
    private static func token(of spec: SlipwayConfig) -> String? {
        switch spec.controller.token {
        case .generated:
            // The controller's own token, which this user may read when they run it.
            let file = spec.controller.stateDirectory + "/" + TokenSource.generatedFileName
            return (try? String(contentsOfFile: file, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        case .environment(let name):
            return ProcessInfo.processInfo.environment[name]
        case .file(let path):
            return (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        case nil:
            return nil
        }
    }
}

/// Where a controller's API answers, and the token to present.
struct ControllerEndpoint: Equatable {
    /// `http://host:port`, with no trailing slash.
    var base: String
    /// `host:port`, for messages.
    var address: String
    /// The bearer token, if any.
    var token: String?

    init(base: String, address: String, token: String?) {
        self.base = base
        self.address = address
        self.token = token
    }

    /// Reads `http://host:port` (a path prefix is kept) or a bare `host:port`; nil when it is neither.
    init?(url text: String, token: String?) {
        let full = text.contains("://") ? text : "http://" + text
        guard let components = URLComponents(string: full), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty,
            components.query == nil, components.fragment == nil
        else { return nil }
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        var base = full
        while base.hasSuffix("/") { base.removeLast() }
        self.init(base: base, address: HostPort(host: bare, port: port).description, token: token)
    }
}
