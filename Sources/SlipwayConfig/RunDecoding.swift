import Yams

extension ConfigDecoder {
    /// `apps[n].run` of an app on `hosts` (nil on this machine); nil when it is missing, not a mapping, or has no
    /// valid `command`.
    func run(_ entry: Entry, hosts: [String]?) -> RunSpec? {
        if entry.value.isNull {
            report(entry.value.location, entry.path, "missing required key `command`")
            return nil
        }
        guard let fields = fields(of: entry.value, at: entry.path, schema: .run) else { return nil }
        let command = require("command", in: fields).flatMap(command)
        var spec = RunSpec(command: command ?? [])
        if let env = fields["env"] {
            spec.env = environment(env)
        }
        spec.workingDirectory = fields["workingDir"].flatMap(path)
        if let stopSignal = fields["stopSignal"].flatMap(stopSignal) {
            spec.stopSignal = stopSignal
        }
        if let grace = fields["stopGracePeriod"].flatMap({ duration($0, positive: false) }) {
            spec.stopGracePeriod = grace
        }
        var valid = command != nil
        if let entry = fields["artifact"] {
            spec.artifact = artifact(entry, hosts: hosts)
            valid = valid && spec.artifact != nil
        } else if let entry = fields["command"], let command, command.contains(where: { $0.contains("{release}") }) {
            report(
                entry.value.location,
                entry.path,
                "`{release}` is the folder an `artifact` is unpacked in, and this app has no `run.artifact`"
            )
            valid = false
        }
        return valid ? spec : nil
    }

    /// `run.artifact`: the path of a release's file, with `{version}`, for an app on hosts.
    private func artifact(_ entry: Entry, hosts: [String]?) -> String? {
        guard let text = entry.value.scalarText, !text.isEmpty else {
            reportExpected("the path of a release's file, like dist/shop-{version}.tar.gz", entry)
            return nil
        }
        let problems = Placeholders.artifact.problems(in: text)
        for problem in problems { report(entry.value.location, entry.path, problem) }
        guard problems.isEmpty else { return nil }
        guard text.contains("{version}") else {
            reportExpected(
                "a path with `{version}` in it, one file per release, like dist/shop-{version}.tar.gz",
                entry
            )
            return nil
        }
        guard hosts != nil else {
            report(
                entry.value.location,
                entry.path,
                "an artifact is sent to the app's hosts, and this app runs on this machine (it has no `hosts`); "
                    + "leave `artifact` out and name the program in `command`"
            )
            return nil
        }
        return PathResolution.absolute(text, base: baseDirectory)
    }

    /// `run.command`: a non-empty list of scalars with known placeholders.
    private func command(_ entry: Entry) -> [String]? {
        let expectation = "a list like [my-app, --port, \"{port}\"]"
        guard let elements = list(entry, expectation: expectation) else { return nil }
        guard !elements.isEmpty else {
            reportExpected("a non-empty list with the program and its arguments", entry)
            return nil
        }
        var argv: [String] = []
        var valid = true
        for (index, element) in elements.enumerated() {
            let path = KeyPath.element(entry.path, index)
            guard let text = element.scalarText else {
                report(element.location, path, "expected a string, got \(element.foundDescription)")
                valid = false
                continue
            }
            if index == 0 && text.isEmpty {
                report(element.location, path, "expected the program to run, got an empty string")
                valid = false
            }
            for problem in Placeholders.command.problems(in: text) {
                report(element.location, path, problem)
                valid = false
            }
            argv.append(text)
        }
        return valid ? argv : nil
    }

    /// `run.env`: variable names to scalar values.
    func environment(_ entry: Entry) -> [String: String] {
        if entry.value.isNull {
            return [:]
        }
        guard let entries = entries(of: entry.value, at: entry.path) else { return [:] }
        var environment: [String: String] = [:]
        for variable in entries {
            guard NameRules.isEnvironmentName(variable.name) else {
                let message =
                    "expected an environment variable name (letters, digits and _, not starting with a "
                    + "digit), got \(Node.quote(variable.name))"
                report(variable.key.location, variable.path, message)
                continue
            }
            guard let value = variable.value.scalarText else {
                reportExpected("a string, number or boolean", variable)
                continue
            }
            environment[variable.name] = value
        }
        return environment
    }

    /// `run.stopSignal`: a signal name such as `SIGTERM` or `TERM`.
    private func stopSignal(_ entry: Entry) -> StopSignal? {
        let names = StopSignal.allCases.map(\.rawValue)
        let expectation = "a signal name (\(names.dropLast().joined(separator: ", ")) or \(names.last ?? ""))"
        guard let text = entry.value.scalarText, let signal = StopSignal(name: text) else {
            reportExpected(expectation, entry)
            return nil
        }
        return signal
    }
}
