/// Slow start: a freshly warmed-up instance's weight grows linearly from a tenth of a full share to a full share,
/// so the least-outstanding choice does not hand it a full share of traffic at once.
public enum SlowStartRamp {
    /// The weight the ramp starts from: 10% of ``UpstreamInstance/fullWeight``.
    static let startWeight = UpstreamInstance.fullWeight / 10

    /// Raises `instance`'s weight from 10% to full in `steps` equal steps spread over `duration`, and returns once it
    /// is full. A zero duration (or no steps) sets the full weight at once. When the task is cancelled it returns
    /// at once, leaving the weight where it is.
    public static func run(_ instance: UpstreamInstance, over duration: Duration, steps: Int = 20) async {
        guard duration > .zero, steps > 0 else {
            instance.setWeight(UpstreamInstance.fullWeight)
            return
        }
        let clock = ContinuousClock()
        let start = clock.now
        instance.setWeight(weight(afterStep: 0, of: steps))
        for step in 1...steps {
            do {
                try await Task.sleep(until: start + duration * step / steps, clock: clock)
            } catch {
                return
            }
            instance.setWeight(weight(afterStep: step, of: steps))
        }
    }

    /// The weight after `step` of `steps`: 10% at step 0, full at the last, linear in between.
    static func weight(afterStep step: Int, of steps: Int) -> Int {
        startWeight + (UpstreamInstance.fullWeight - startWeight) * step / steps
    }
}
