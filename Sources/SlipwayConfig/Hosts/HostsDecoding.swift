import Foundation

/// The top-level `hosts` list.
extension ConfigDecoder {
    /// `hosts`: a list of hosts with unique names; the accepted ones, in order.
    func hosts(_ entry: Entry) -> [HostSpec] {
        guard let elements = list(entry, expectation: "a list of hosts like [{name: web-1, address: 10.0.0.11}]")
        else { return [] }
        var hosts: [HostSpec] = []
        var seen: [String: String] = [:]
        for (index, element) in elements.enumerated() {
            let item = Entry.element(element, at: KeyPath.element(entry.path, index))
            guard let host = host(item) else { continue }
            if let first = seen[host.name] {
                report(element.location, item.path + ".name", "host `\(host.name)` is already defined at \(first)")
                continue
            }
            seen[host.name] = item.path
            hosts.append(host)
        }
        return hosts
    }

    /// One host; nil when a required key is missing or a value is rejected.
    private func host(_ entry: Entry) -> HostSpec? {
        guard case .mapping = entry.value else {
            reportExpected("a host like {name: web-1, address: 10.0.0.11}", entry)
            return nil
        }
        guard let fields = fields(of: entry.value, at: entry.path, schema: .host) else { return nil }
        var valid = true
        let name = require("name", in: fields).flatMap {
            string($0, matching: NameRules.isAppName, expectation: "a host name like web-1 (a-z, 0-9 and -)")
        }
        let address = require("address", in: fields).flatMap {
            string($0, matching: Self.isHostAddress, expectation: "an IP address or a DNS name like web-1.example.com")
        }
        var spec = HostSpec(name: name ?? "", address: address ?? "")
        if let entry = fields["port"] {
            if let port = integer(entry, in: 1...65535) { spec.port = port } else { valid = false }
        }
        if let entry = fields["user"] {
            let expectation = "a user name like deploy (letters, digits, `.`, `_` and `-`)"
            if let user = string(entry, matching: Self.isUserName, expectation: expectation) {
                spec.user = user
            } else {
                valid = false
            }
        }
        if let entry = fields["identityFile"] {
            if let path = existingFile(entry) { spec.identityFile = path } else { valid = false }
        }
        if let entry = fields["knownHostsFile"] {
            if let path = filePath(entry) { spec.knownHostsFile = path } else { valid = false }
        }
        if let entry = fields["hostKeys"] {
            let expectation = "`strict` (refuse unknown host keys) or `acceptNew` (remember a new host's key)"
            if let text = string(
                entry,
                matching: { HostSpec.HostKeyPolicy(rawValue: $0) != nil },
                expectation: expectation
            ) {
                spec.hostKeys = HostSpec.HostKeyPolicy(rawValue: text)!
            } else {
                valid = false
            }
        }
        if let entry = fields["directory"] {
            let expectation = "an absolute path like /var/lib/slipway"
            if let directory = string(
                entry,
                matching: { $0.hasPrefix("/") && !$0.contains("\n") },
                expectation: expectation
            ) {
                spec.directory = PathResolution.normalize(directory)
            } else {
                valid = false
            }
        }
        guard valid, name != nil, address != nil else { return nil }
        return spec
    }

    /// A path to a file that exists, made absolute (`~/` is the home folder, anything else relative to the file).
    private func existingFile(_ entry: Entry) -> String? {
        guard let path = filePath(entry) else { return nil }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            report(entry.value.location, entry.path, "no such file: \(path)")
            return nil
        }
        return path
    }

    /// A path made absolute (`~/` is the home folder, anything else relative to the file).
    func filePath(_ entry: Entry) -> String? {
        guard let text = string(entry, matching: { !$0.isEmpty && !$0.contains("\n") }, expectation: "a file path")
        else { return nil }
        if text.hasPrefix("~/") {
            return PathResolution.normalize(NSHomeDirectory() + "/" + text.dropFirst(2))
        }
        return PathResolution.absolute(text, base: baseDirectory)
    }

    /// An IPv4 or IPv6 literal, or a DNS name (letters, digits, `-` and `.`).
    static func isHostAddress(_ text: String) -> Bool {
        if text.contains(":") { return text.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." } }
        guard !text.isEmpty, text.count <= 253, !text.hasPrefix("-"), !text.hasPrefix("."), !text.hasSuffix(".") else {
            return false
        }
        return text.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "."
        }
    }

    /// A login name: letters, digits, `.`, `_` and `-`, not starting with `-`.
    static func isUserName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first != "-", text.unicodeScalars.count <= 32 else { return false }
        return text.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
                || "._-".unicodeScalars.contains($0)
        }
    }
}
