//! Pure types and rules of fast-flights. Nothing here does I/O: every value is built
//! through a constructor that checks it, so an invalid one cannot exist past the edge.

pub mod airline;
pub mod airport;
pub mod booking;
pub mod cursor;
pub mod inventory;
pub mod job;
pub mod money;
pub mod offer;
pub mod plan;
pub mod spec;
pub mod user;
pub mod webhook;

pub use airline::airline_name;
pub use airport::{Airport, AirportCode, AirportDb, Place, PlaceKind};
pub use booking::{
    BookingInputError, BookingStatus, Passenger, RawPassenger, event_type, parse_idempotency_key,
    parse_passengers,
};
pub use cursor::TaskCursor;
pub use inventory::{CsvHeader, FlightError, InventoryFlight, RawFlight};
pub use job::{JobProgress, JobStatus};
pub use money::{Currency, Money};
pub use offer::{Cabin, Direction, FlightOffer, FlightQuery, Segment};
pub use plan::{CallShape, Task, TaskPlan};
pub use spec::{
    MAX_LABEL_CHARS, NightsRange, SearchRequest, SearchSpec, SpecError, SpecErrors,
    ValidationContext,
};
pub use user::{Email, Role, check_password};
