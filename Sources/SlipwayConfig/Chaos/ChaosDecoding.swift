import SlipwayCore
import Yams

extension KeySchema {
    /// `chaos`, at the top of the file or in an app.
    static let chaos = KeySchema(known: ["monkey"])
    /// `chaos.monkey`.
    static let monkey = KeySchema(
        known: [
            "enabled", "leashed", "meanTimeBetweenKillsInWorkDays", "minTimeBetweenKillsInWorkDays", "action",
            "signal", "hangFor", "schedule",
        ]
    )
}

extension ConfigDecoder {
    /// A `chaos` section's monkey, its unwritten keys taken from `defaults`; nil when the section has no
    /// `monkey` or anything in it was reported.
    func chaosMonkey(_ entry: Entry?, defaults: MonkeySpec) -> MonkeySpec? {
        guard let entry else { return nil }
        let reported = diagnostics.count
        guard let fields = optionalFields(entry, schema: .chaos), let monkey = fields["monkey"] else { return nil }
        guard let values = optionalFields(monkey, schema: .monkey) else { return nil }
        var spec = defaults
        spec.keyPath = monkey.path
        var reader = SectionReader(fields: values)
        if let value = reader.read("enabled", boolean) { spec.enabled = value }
        if let value = reader.read("leashed", boolean) { spec.leashed = value }
        if let value = reader.read("meanTimeBetweenKillsInWorkDays", { self.workDays($0, minimum: 1) }) {
            spec.meanTimeBetweenKillsInWorkDays = value
        }
        if let value = reader.read("minTimeBetweenKillsInWorkDays", { self.workDays($0, minimum: 0) }) {
            spec.minTimeBetweenKillsInWorkDays = value
        }
        if let value = reader.read(
            "action",
            { entry in
                self.string(
                    entry,
                    matching: { MonkeySpec.Action(rawValue: $0) != nil },
                    expectation: "kill, hang or either"
                ).flatMap(MonkeySpec.Action.init(rawValue:))
            }
        ) {
            spec.action = value
        }
        if let value = reader.read(
            "signal",
            { entry in
                self.string(
                    entry,
                    matching: MonkeySpec.signals.contains,
                    expectation: "one of " + MonkeySpec.signals.joined(separator: ", ")
                )
            }
        ) {
            spec.signal = value
        }
        if let value = reader.read(
            "hangFor",
            { entry -> Duration? in
                guard let duration = self.duration(entry, positive: true) else { return nil }
                guard duration <= .seconds(600) else {
                    self.reportExpected("a duration up to 10m", entry)
                    return nil
                }
                return duration
            }
        ) {
            spec.hangFor = value
        }
        if let value = reader.read("schedule", deployWindows) {
            spec.schedule = value.hasRules ? value : MonkeySpec.defaultSchedule
        }
        return diagnostics.count == reported ? spec : nil
    }

    /// A number of work days, `minimum` to 365; fractions allowed.
    private func workDays(_ entry: Entry, minimum: Double) -> Double? {
        let expectation = "a number of work days from \(Int(minimum)) to 365, like 5 or 0.5"
        guard let text = entry.value.scalarText, entry.value.tagName != Tag.Name.str.rawValue || Double(text) != nil,
            let value = Double(text), value.isFinite, (minimum...365).contains(value)
        else {
            reportExpected(expectation, entry)
            return nil
        }
        return value
    }
}
