// App router, server-rendered on every request.
import { activeFaults } from "../../../shared/faults";
import Widgets from "../../../shared/widgets";

export const dynamic = "force-dynamic";

export default function Account() {
  const faults = activeFaults();
  return (
    <main>
      <h1>Account</h1>
      <p data-ssr="account">Account overview for Fleet GmbH</p>
      <Widgets failing={faults.includes("ssr-console-error")} />
    </main>
  );
}
