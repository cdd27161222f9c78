// App router, server-rendered on every request.
import { activeFaults } from "../../../shared/faults";
import Widgets from "../../../shared/widgets";

export const dynamic = "force-dynamic";

export default function Dashboard() {
  const faults = activeFaults();
  return (
    <main>
      <h1>Support dashboard</h1>
      <p data-ssr="dashboard">Tickets waiting: 7</p>
      <Widgets failing={faults.includes("ssr-console-error")} />
    </main>
  );
}
