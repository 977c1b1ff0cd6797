import Yams

/// `apps[n].hosts`: the hosts an app runs on.
extension ConfigDecoder {
    /// The names in `apps[n].hosts`, each once; nil after reporting when the list is not acceptable. The names are
    /// checked against the top-level `hosts` once the whole file is read (``hostTargets``).
    func appHosts(_ entry: Entry) -> [String]? {
        let expectation = "a list of host names from the top-level `hosts`, like [web-1, web-2]"
        guard let elements = list(entry, expectation: expectation) else { return nil }
        guard !elements.isEmpty else {
            reportExpected("at least one host name (leave `hosts` out to run on this machine)", entry)
            return nil
        }
        var names: [String] = []
        var valid = true
        for (index, element) in elements.enumerated() {
            let item = Entry.element(element, at: KeyPath.element(entry.path, index))
            guard let name = string(item, matching: NameRules.isAppName, expectation: "a host name like web-1")
            else {
                valid = false
                continue
            }
            if names.contains(name) {
                report(element.location, item.path, "host `\(name)` is listed twice")
                valid = false
                continue
            }
            hostTargets.append((name, element.location, item.path))
            names.append(name)
        }
        return valid ? names : nil
    }

    /// Every name in an `apps[n].hosts` is a declared host.
    func checkHostTargets(declared hosts: [HostSpec]) {
        let names = hosts.map(\.name)
        for target in hostTargets where !names.contains(target.name) {
            let message: String
            if names.isEmpty {
                message = "no host is named `\(target.name)`: the top-level `hosts` declares none"
            } else {
                message =
                    "no host is named `\(target.name)` (the hosts are "
                    + names.map { "`\($0)`" }.joined(separator: ", ") + ")"
            }
            report(target.location, target.path, message)
        }
    }
}
