import Release from "../../shared/release";

export const metadata = { title: "Mobilytics support" };

export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <body>
        {children}
        <Release />
      </body>
    </html>
  );
}
