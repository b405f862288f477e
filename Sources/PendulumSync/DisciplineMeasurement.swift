import PendulumDiscipline

/// Foundation also has a `Measurement`; this module means the discipline's.
typealias DisciplineMeasurement = PendulumDiscipline.Measurement
