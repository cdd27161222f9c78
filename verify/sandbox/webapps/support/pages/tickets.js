// Pages router, server-rendered on every request (getServerSideProps).
import Deferred from "../../shared/deferred";
import { activeFaults } from "../../shared/faults";

const TICKETS = [
  { id: 4711, subject: "Refund for trip 88" },
  { id: 4712, subject: "Driver app login" },
  { id: 4713, subject: "Invoice address" },
];

export async function getServerSideProps() {
  const faults = activeFaults();
  if (faults.includes("ssr-500")) throw new Error("tickets: upstream API answered 503");
  return { props: { tickets: TICKETS, clientOnly: faults.includes("ssr-missing-content") } };
}

export default function Tickets({ tickets, clientOnly }) {
  return (
    <main>
      <h1>Tickets</h1>
      <Deferred clientOnly={clientOnly}>
        <p data-ssr="tickets">Open tickets: {tickets.length}</p>
        <ul>
          {tickets.map((t) => (
            <li key={t.id}>
              #{t.id} {t.subject}
            </li>
          ))}
        </ul>
      </Deferred>
    </main>
  );
}
