import Yams

extension KeySchema {
    /// `apps[n].hooks`.
    static let hooks = KeySchema(known: HookPoint.allCases.map(\.rawValue))
    /// An entry of a hook list.
    static let hook = KeySchema(known: ["name", "command", "env", "workingDir", "timeout", "webhook"])
    /// `webhook` in a hook.
    static let webhookGate = KeySchema(known: ["url", "interval", "deadline", "timeout"])
}

extension ConfigDecoder {
    /// The optional `hooks` section of an app: lists of hooks under `preDeploy`, `prePromotion`, `postPromotion`
    /// and `onRollback`.
    func hooks(_ entry: Entry?) -> HooksSpec {
        guard let fields = optionalFields(entry, schema: .hooks) else { return HooksSpec() }
        var points: [HookPoint: [HookSpec]] = [:]
        for point in HookPoint.allCases {
            guard let list = fields[point.rawValue] else { continue }
            if list.value.isNull { continue }
            guard let elements = self.list(list, expectation: "a list of hooks like [{command: [./snapshot.sh]}]")
            else { continue }
            points[point] = elements.enumerated().compactMap { index, element in
                hook(.element(element, at: KeyPath.element(list.path, index)), point: point)
            }
        }
        return HooksSpec(points)
    }

    /// One hook: `command` (with `env`, `workingDir`, `timeout`) or `webhook`, and an optional `name`.
    private func hook(_ entry: Entry, point: HookPoint) -> HookSpec? {
        guard let fields = fields(of: entry.value, at: entry.path, schema: .hook) else { return nil }
        let name = fields["name"].flatMap { name in
            string(
                name,
                matching: NameRules.isHookName,
                expectation: "a hook name of letters, digits, '.', '_' and '-'"
            )
        }
        guard let chosen = exactlyOne(of: ["command", "webhook"], in: fields) else { return nil }
        if chosen.name == "webhook" {
            for key in ["env", "workingDir", "timeout"] {
                if let extra = fields[key] {
                    report(extra.key.location, extra.path, "`\(key)` applies to `command` hooks; a webhook has its own")
                }
            }
            guard point.blocksRollout else {
                let message =
                    "a webhook gate can only hold a rollout before a step (`preDeploy` or `prePromotion`); "
                    + "to tell another system after `\(point.rawValue)`, use `notifications`"
                report(chosen.key.location, chosen.path, message)
                return nil
            }
            guard let gate = webhookGate(chosen) else { return nil }
            return HookSpec(name: name ?? "webhook", action: .gate(gate), keyPath: entry.path)
        }
        guard let argv = hookArguments(chosen) else { return nil }
        var command = HookCommand(argv: argv)
        if let env = fields["env"] {
            command.env = environment(env)
        }
        command.workingDirectory = fields["workingDir"].flatMap(path)
        if let timeout = fields["timeout"].flatMap({ duration($0, positive: true) }) {
            command.timeout = timeout
        }
        let program = argv[0].split(separator: "/").last.map(String.init) ?? argv[0]
        let fallback = NameRules.isHookName(program) ? program : "command"
        return HookSpec(name: name ?? fallback, action: .command(command), keyPath: entry.path)
    }

    /// `command` of a hook: a non-empty list of strings, the program first.
    private func hookArguments(_ entry: Entry) -> [String]? {
        guard let elements = list(entry, expectation: "a list like [./scripts/snapshot.sh, --label, nightly]") else {
            return nil
        }
        guard !elements.isEmpty else {
            reportExpected("a non-empty list with the program and its arguments", entry)
            return nil
        }
        var argv: [String] = []
        for (index, element) in elements.enumerated() {
            let path = KeyPath.element(entry.path, index)
            guard let text = element.scalarText, index > 0 || !text.isEmpty else {
                report(
                    element.location,
                    path,
                    "expected the program or an argument as a string, got \(element.foundDescription)"
                )
                return nil
            }
            argv.append(text)
        }
        return argv
    }

    /// `webhook` of a hook.
    private func webhookGate(_ entry: Entry) -> WebhookGate? {
        guard let fields = fields(of: entry.value, at: entry.path, schema: .webhookGate) else { return nil }
        guard let url = require("url", in: fields).flatMap(secretURL) else { return nil }
        var gate = WebhookGate(url: url)
        if let interval = fields["interval"].flatMap({ duration($0, positive: true) }) {
            gate.interval = interval
        }
        if let deadline = fields["deadline"].flatMap({ duration($0, positive: true) }) {
            gate.deadline = deadline
        }
        if let timeout = fields["timeout"].flatMap({ duration($0, positive: true) }) {
            gate.timeout = timeout
        }
        return gate
    }
}
