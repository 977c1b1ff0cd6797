import Yams

extension ConfigDecoder {
    /// `apps[n].run`; nil when it is missing, not a mapping, or has no valid `command`.
    func run(_ entry: Entry) -> RunSpec? {
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
        return command == nil ? nil : spec
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
