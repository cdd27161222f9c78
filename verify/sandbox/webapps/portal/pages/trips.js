// Pages router, server-rendered on every request (getServerSideProps).
import Deferred from "../../shared/deferred";
import { activeFaults } from "../../shared/faults";

export async function getServerSideProps() {
  const faults = activeFaults();
  if (faults.includes("ssr-500")) throw new Error("trips: upstream API answered 503");
  return { props: { trips: 12, clientOnly: faults.includes("ssr-missing-content") } };
}

export default function Trips({ trips, clientOnly }) {
  return (
    <main>
      <h1>Trips</h1>
      <Deferred clientOnly={clientOnly}>
        <p data-ssr="trips">Trips this month: {trips}</p>
      </Deferred>
    </main>
  );
}
