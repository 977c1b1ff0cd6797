import SlipwayCore

/// A TCP address: a host name or IP address and a port, written `127.0.0.1:8080`, `localhost:80` or `[::1]:8080`.
public struct HostPort: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The host name or IP address, without brackets for IPv6.
    public var host: String
    /// The port, 0...65535; 0 asks for any free port when the address is bound.
    public var port: Int

    /// Creates an address from its parts.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Reads `host:port`; nil when the text is malformed or the port is outside 0...65535.
    public static func parse(_ text: String) -> HostPort? {
        try? parseOrExplain(text).get()
    }

    /// `host:port`, with the host in brackets when it is an IPv6 address, like `[::1]:8080`.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Whether the host is the "any address" wildcard, which takes the port on every interface.
    var isWildcard: Bool {
        host == "0.0.0.0" || host == "::"
    }

    /// Whether two listeners would compete for the same port.
    func conflicts(with other: HostPort) -> Bool {
        // Port 0 binds whatever port is free, so it never competes.
        port != 0 && port == other.port && (host == other.host || isWildcard || other.isWildcard)
    }

    /// Why a text is not a valid address, phrased to follow "got …".
    enum Problem: Error, Equatable {
        case missingPort
        case missingHost
        case badPort
        case unbracketedIPv6
        case badHost

        var explanation: String {
            switch self {
            case .missingPort: "the port is missing"
            case .missingHost: "the host is missing"
            case .badPort: "the port must be a number from 0 to 65535"
            case .unbracketedIPv6: "write IPv6 addresses in brackets, like [::1]:8080"
            case .badHost: "the host may only contain letters, digits, '.', '-' and '_'"
            }
        }
    }

    /// Parses `text`, or says what is wrong with it.
    static func parseOrExplain(_ text: String) -> Result<HostPort, Problem> {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return .failure(.badHost) }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return .failure(rest.isEmpty ? .missingPort : .badHost) }
            portText = rest.dropFirst()
            guard host.contains(":"), host.allSatisfy(isIPv6Character) else { return .failure(.badHost) }
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                return .failure(!text.isEmpty && text.allSatisfy(\.isASCIIDigit) ? .missingHost : .missingPort)
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") { return .failure(.unbracketedIPv6) }
            guard !host.isEmpty else { return .failure(.missingHost) }
            guard host.allSatisfy(isHostNameCharacter) else { return .failure(.badHost) }
        }
        guard !portText.isEmpty else { return .failure(.missingPort) }
        guard portText.count <= 5, portText.allSatisfy(\.isASCIIDigit), let port = Int(portText),
            (0...65535).contains(port)
        else { return .failure(.badPort) }
        return .success(HostPort(host: String(host), port: port))
    }

    private static func isHostNameCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || ".-_".contains(character))
    }

    private static func isIPv6Character(_ character: Character) -> Bool {
        character.isASCII && (character.isHexDigit || ":.%".contains(character))
    }
}
