#!/usr/bin/env python3
"""Generate the Folio sample corpus (fictional "Valmont Rail Cooperative").

All text lives in this file as Python data.  Every document is a list of
blocks; PDFs are a list of pages, each page a list of blocks.  Block kinds:

    ("h1", text) ("h2", text) ("h3", text) ("p", text)
    ("ul", [item, ...])          bullet list
    ("table", [[cell, ...], ...]) first row is the header

Run from anywhere:  python sample_docs/_build/make_samples.py
Outputs are written next to this folder (sample_docs/) deterministically.
"""
from __future__ import annotations

import datetime as _dt
import html
import io
import zipfile
from pathlib import Path

OUT_DIR = Path(__file__).resolve().parent.parent
FIXED_DT = _dt.datetime(2026, 1, 15, 9, 0, 0, tzinfo=_dt.timezone.utc)
ZIP_DT = (2026, 1, 15, 9, 0, 0)
AUTHOR = "Valmont Rail Cooperative"

# ---------------------------------------------------------------------------
# ENGLISH
# ---------------------------------------------------------------------------

ANNUAL_REPORT_EN = [
    [  # page 1
        ("h1", "Valmont Rail Cooperative - Annual Report 2025"),
        ("p", "Brenzach, March 2026"),
        ("h2", "A word from the President"),
        ("p", "Dear members, when 23 railway enthusiasts met in the back room of the "
              "Hotel Krone in Brenzach in the spring of 1987, their goal was modest: to "
              "stop the rails over the Col du Valmont from being sold for scrap. Almost four "
              "decades later the cooperative runs trains on more than two hundred days a "
              "year, maintains its own workshop and employs professional staff alongside "
              "hundreds of volunteers. 2025 was our best year so far, and I would like to "
              "thank every member, employee and volunteer who made it possible."),
        ("p", "The line itself is older than any of us. It was opened in stages between "
              "1904 and 1911 by the Valmont Railway Company and closed to regular traffic "
              "by its owner in 1985. The two years of silence that followed are still "
              "remembered in the valley as the 'quiet years'."),
        ("p", "Highlights of the year included the return of a second steam locomotive to "
              "traffic, a record number of passengers and the award of the contract for the "
              "renovation of the summit tunnel, the largest project in our history."),
        ("p", "Margrit Aebischer, President of the Board (since 2017)"),
        ("h2", "The cooperative at a glance"),
        ("ul", [
            "Legal form: cooperative under Swiss law, registered in Brenzach",
            "Founded: 1987 by 23 founding members",
            "Members on 31 December 2025: 2318 (a net gain of 141 during the year)",
            "Route: Brenzach - Oberfeld - Les Ormeaux - Col du Valmont - Pontaserra, "
            "42 km of metre-gauge track",
            "Managing Director: Laurent Dufaux (in office since 2019)",
            "Head office: Bahnhofstrasse 4, Brenzach",
        ]),
        ("h2", "Our mission"),
        ("p", "Under its articles of association the cooperative pursues three aims: to "
              "preserve the historic railway over the Col du Valmont as a working line, to "
              "offer residents and visitors a reliable and attractive service, and to pass "
              "on the skills needed to maintain steam and early electric traction. The "
              "cooperative is not profit-oriented; any surplus is reinvested in the line."),
    ],
    [  # page 2
        ("h2", "1. Operations in 2025"),
        ("p", "The 2025 season opened on 5 April and closed on 26 October, followed by "
              "special Advent trains on the four weekends of December. In total, trains ran "
              "on 214 days. We carried 148,600 passengers, 9 percent more than in 2024 and "
              "the highest figure since the cooperative took over the line."),
        ("p", "Punctuality improved to 96.4 percent of trains arriving less than five "
              "minutes late (2024: 94.1 percent). Most delays still arise on the "
              "single-track section between Oberfeld and Les Ormeaux, where trains have to "
              "wait for each other at the Mühlebach passing loop."),
        ("p", "The busiest day of the year was Sunday 17 August 2025, the second day of the "
              "Steam Festival, when 3912 passengers travelled on 14 trains. The quietest "
              "day was a rainy Tuesday in late October with only 38 passengers."),
        ("p", "From June the first train of the day left Brenzach 20 minutes earlier in "
              "order to connect with the morning regional train from the lowlands. Charter "
              "business also grew: companies, wedding parties and clubs ordered 27 charter "
              "trains, compared with 19 in the previous year."),
        ("h3", "Rolling stock"),
        ("p", "Steam locomotive No. 12 'Aiglon' returned to service on 24 May 2025 after "
              "an overhaul that took six years and was largely carried out by volunteers in "
              "the Brenzach workshop. Electric railcar No. 23 was out of service for 11 "
              "weeks in the summer after a transformer failure; a replacement transformer "
              "was finally found at a scrapyard in Austria."),
        ("p", "Our fleet covered 187,300 train kilometres in 2025. Three coaches received "
              "new upholstery, paid for by a crowdfunding campaign among members."),
        ("h3", "Events and customer feedback"),
        ("p", "The Steam Festival on 16 and 17 August again drew visitors from across "
              "Switzerland and abroad. New in 2025 were the 'Sunset trains', which ran on "
              "nine Friday evenings in July and August with live music on board. Customer "
              "satisfaction remained high: 1870 online reviews gave the railway an average "
              "score of 4.7 out of 5. The most frequent complaint concerned the lack of "
              "parking at Brenzach station on festival days."),
    ],
    [  # page 3
        ("h2", "2. Finances"),
        ("p", "The accounts for 2025 close with a surplus of CHF 212,000, which the board "
              "proposes to allocate in full to the rolling stock reserve. Total operating "
              "revenue rose to CHF 6.8 million, while operating expenses amounted to "
              "CHF 6.59 million."),
        ("ul", [
            "Ticket sales: CHF 4.1 million",
            "Catering, shop and charter trains: CHF 0.9 million",
            "Public service grant from the Canton of Valmont: CHF 950,000",
            "Donations and legacies: CHF 318,000",
            "Other income: CHF 0.53 million",
        ]),
        ("p", "Donations came from 1046 individual donors. The largest single gift was a "
              "legacy of CHF 120,000 from the estate of Ruth Vögeli, a long-standing member "
              "from Oberfeld, which is earmarked for the restoration of the 1913 saloon "
              "coach."),
        ("p", "Treasurer Henrik Olsen points out that personnel costs, at 58 percent of "
              "expenses, remain the largest item, and that the reserves now cover about "
              "five months of operating costs."),
        ("p", "Catering had its best year so far. After the menu was revised in spring "
              "with more regional products, the average spending per guest in the dining "
              "car rose noticeably, and the station buffets benefited from the longer "
              "opening hours during the summer holidays."),
        ("h3", "Investments"),
        ("p", "Investments totalled CHF 1.9 million. The largest items were the new "
              "signalling at the Mühlebach passing loop, the completion of a steam "
              "locomotive overhaul and the first instalment for the two battery-electric "
              "railcars. All investments were financed from reserves, donations and an "
              "interest-free loan from the canton."),
        ("h3", "Budget 2026"),
        ("p", "For 2026 the board expects a weaker result, because the winter closure for "
              "track renewal and the start of the tunnel works will reduce ticket income. A "
              "small deficit is budgeted and will be covered from reserves."),
        ("p", "The accounts were audited by Keller & Partner Treuhand AG, Brenzach, which "
              "issued an unqualified opinion on 19 February 2026."),
    ],
    [  # page 4
        ("h2", "3. People"),
        ("p", "At the end of 2025 the cooperative employed 64 people, corresponding to 52 "
              "full-time equivalents. Five apprentices are currently training with us, "
              "three as polymechanics and two as commercial clerks. The 410 active "
              "volunteers contributed an estimated 61,000 hours of work, the equivalent of "
              "roughly 35 full-time jobs."),
        ("p", "In September, 19 employees and volunteers passed their final examination as "
              "train conductors. A staff survey carried out in October had a response rate "
              "of 81 percent; 88 percent of respondents would recommend the cooperative as "
              "an employer."),
        ("h3", "Volunteer highlights"),
        ("p", "Volunteers rebuilt the dry-stone retaining wall below Col du Valmont "
              "station, catalogued the cooperative's collection of historic uniforms and "
              "ran the buffet at every Advent train. The youth group, founded in 2024, now "
              "has its own small workshop corner in Brenzach."),
        ("h3", "Governance"),
        ("p", "The board met seven times in 2025. At the Annual General Meeting in June, 312 "
              "members attended in person and the accounts for 2024 were approved with only "
              "two votes against. Beat Zürcher and Isabel Romero were elected to the board "
              "for the first time."),
        ("h2", "4. Outlook for 2026"),
        ("p", "The first of our two battery-electric railcars is expected to arrive in "
              "Brenzach in March 2026, with passenger service to follow after testing. The "
              "larger challenge lies further ahead: the renovation of the Col du Valmont "
              "tunnel will require a long closure of the upper section of the line from "
              "autumn 2026. The board will present the detailed plan to members at the "
              "Annual General Meeting."),
        ("p", "We also plan to digitise the cooperative's photo archive of about 14,000 "
              "images, with help from the Brenzach Historical Society."),
        ("p", "We thank the Canton of Valmont, the municipalities along the line, our "
              "sponsors and the many private donors. Special thanks go to the volunteers of "
              "the track gang, who worked through a cold spring to repair the storm damage "
              "above Oberfeld."),
        ("p", "Margrit Aebischer, President - Laurent Dufaux, Managing Director"),
    ],
]

BOARD_MINUTES_EN = [
    ("h1", "Valmont Rail Cooperative - Minutes of the Board Meeting of 18 November 2025"),
    ("ul", [
        "Place: meeting room, Les Ormeaux depot",
        "Time: 18:30 to 21:05",
        "Chair: Margrit Aebischer",
        "Present (voting): Margrit Aebischer, Henrik Olsen, Beat Zürcher, Chiara Monti, "
        "Nadine Favre, Tobias Wyss, Isabel Romero",
        "Excused: Felix Hug",
        "In attendance (non-voting): Laurent Dufaux, Managing Director",
        "Minutes: Sandra Imhof",
    ]),
    ("h2", "1. Agenda and previous minutes"),
    ("p", "The agenda was approved. The minutes of the meeting of 16 September 2025 were "
          "approved without changes."),
    ("h2", "2. Financial situation"),
    ("p", "The treasurer reported that revenue up to the end of October was 8 percent above "
          "budget, mainly thanks to the Steam Festival and the new evening trains. "
          "Liquidity is sufficient until the spring, so no bridging loan will be needed "
          "during the winter closure."),
    ("h2", "3. Report of the Managing Director"),
    ("p", "The Managing Director reported on the battery railcar project: the manufacturer "
          "has confirmed the delivery schedule, and driver training will take place at the "
          "factory in February. He also informed the board that two experienced locomotive "
          "drivers will retire in 2026 and that recruitment of their successors has "
          "started."),
    ("h2", "4. Replacement of the workshop roof"),
    ("p", "The Managing Director presented three offers for replacing the roof of hall B "
          "of the Brenzach workshop, which has been leaking since the hailstorm of June "
          "2025. The board approved a credit of CHF 740,000 and awarded the contract to "
          "the lowest bidder, Dachbau Imboden AG. The work will take place between "
          "February and May 2026 while the hall is partly cleared."),
    ("p", "Decision: 6 votes in favour, 1 abstention (Tobias Wyss, who declared a "
          "conflict of interest)."),
    ("h2", "5. Winter closure 2026"),
    ("p", "To renew 2.7 km of rails between Oberfeld and the Mühlebach passing loop, the "
          "whole line will be closed from 6 January to 13 February 2026. No replacement "
          "buses will run, as there is no regular timetable in that period."),
    ("h2", "6. Fares and season 2026"),
    ("p", "The board approved a new family pass for two adults and up to four children "
          "aged 6 to 15, priced at CHF 98 per day and valid from 1 April 2026. All other "
          "fares remain unchanged. Decision: unanimous."),
    ("p", "The 2026 season will open on Saturday 28 March with the traditional opening "
          "train for members. In August, steam trains will also run on Saturdays."),
    ("h2", "7. Data protection"),
    ("p", "Priya Raman, a lawyer from Les Ormeaux and a member of the cooperative since "
          "2014, was appointed data protection officer with effect from 1 January 2026. "
          "She succeeds the external consultancy that had held the mandate since 2020. "
          "Her first task will be a review of the customer data stored by the booking "
          "app."),
    ("h2", "8. Sponsorship"),
    ("p", "Chocolaterie Morand of Pontaserra has offered to sponsor the dining car service "
          "for three years at CHF 45,000 per year, in return for serving its products on "
          "board and printing its logo on the menu. The board accepted the offer, subject "
          "to a clause that the dining car keeps its historic name."),
    ("h2", "9. Volunteer house"),
    ("p", "The old oil heating of the volunteer house next to Les Ormeaux station will be "
          "replaced by a heat pump in spring 2026. The cost of CHF 38,000 is covered by the "
          "volunteer budget and a grant from the municipality."),
    ("h2", "10. Annual General Meeting 2026"),
    ("p", "The Annual General Meeting will be held on Saturday 13 June 2026 at 14:00 in "
          "the Sala Comunale of Pontaserra. A special train will leave Brenzach at 11:10."),
    ("h2", "11. Safety report"),
    ("p", "The safety commission presented its figures for the first ten months of the "
          "year. No accident involving passengers occurred. Two minor injuries in the "
          "workshop led to a review of the rules for working under lifted vehicles. The "
          "board thanked the commission for its work."),
    ("h2", "12. Correspondence"),
    ("p", "A letter from the municipality of Oberfeld asks for an additional request stop "
          "near the new secondary school. The board asked the Managing Director to examine "
          "the technical feasibility, including the length of the platform required, and "
          "to report at the March meeting."),
    ("h2", "13. Any other business"),
    ("ul", [
        "A member's request to allow electric scooters on board was rejected for fire "
        "safety reasons.",
        "Chiara Monti reported that the Christmas market train of 20 December is already "
        "sold out.",
        "Next meeting: Tuesday 20 January 2026, Brenzach head office.",
    ]),
]

ACCESSIBILITY_EN = [
    ("h1", "Accessible Travel and Group Visits"),
    ("p", "This guide explains how passengers with reduced mobility, families with "
          "pushchairs and organised groups can plan a trip on the Valmont line. If "
          "anything is unclear, our accessibility desk will be glad to help."),
    ("h2", "Stations"),
    ("p", "Three of our five stations have step-free access from the street to the "
          "platform: Brenzach, Les Ormeaux and Pontaserra. At Oberfeld and Col du Valmont "
          "the platforms can only be reached by steps; at these stations our staff use a "
          "portable ramp, which is carried on board every train. Accessible toilets are "
          "available at Brenzach and Pontaserra."),
    ("h2", "Wheelchair spaces on board"),
    ("p", "Each electric train has 4 wheelchair spaces in its low-floor centre section. "
          "On steam trains only the converted coach B 52 can take wheelchairs; it has 2 "
          "spaces and a lifting platform. Because space is limited, please book a "
          "wheelchair space at least 48 hours before travelling."),
    ("h2", "Assistance desk"),
    ("p", "Our accessibility desk is staffed by Sophie Meier and can be reached on "
          "+41 27 555 01 40 from Monday to Friday, 8:00 to 12:00. Outside these hours you "
          "can leave a message and we will call back on the next working day. Companions "
          "of passengers holding a Swiss companion card travel free of charge."),
    ("h2", "Mobility scooters"),
    ("p", "Mobility scooters up to 70 cm wide and 120 cm long can be carried in the "
          "low-floor section of electric trains. Larger scooters cannot be taken on board "
          "because of the narrow doors of the historic coaches."),
    ("h2", "Families with pushchairs"),
    ("p", "Pushchairs can travel folded or unfolded in the luggage van of every train. "
          "Baby-changing tables are available in the station buildings of Brenzach and "
          "Pontaserra and in the low-floor section of the electric trains."),
    ("h2", "Visual and hearing impairments"),
    ("p", "Printed timetables are available in large print on request. Electric trains "
          "announce each stop visually and by loudspeaker; on steam trains the conductor "
          "announces the stops in person in each coach. Guided tours can be adapted for "
          "blind and partially sighted visitors if requested at least one week in "
          "advance."),
    ("h2", "Group visits"),
    ("ul", [
        "Groups of 12 or more paying passengers receive a discount of 15 percent on all "
        "regular fares.",
        "School classes pay a flat fare of CHF 9 per pupil for a return trip; up to two "
        "teachers per class travel free.",
        "A whole historic coach with 44 seats can be reserved for CHF 1200 per day.",
        "A private steam special train for up to 150 guests is available from CHF 4800.",
    ]),
    ("p", "Group bookings must be made at least 21 days before the trip. Cancellations "
          "are free of charge up to 7 days before departure; after that, 50 percent of "
          "the price is charged."),
    ("h2", "Picnics and catering for groups"),
    ("p", "Groups may bring their own food in reserved coaches. Lunch boxes from our "
          "catering partner cost CHF 17.50 per person and must be ordered together with "
          "the booking."),
    ("h2", "Dining on board"),
    ("p", "Wheelchair users can reach the dining car only when it runs in an electric "
          "train, where it is coupled next to the low-floor section. On steam trains our "
          "staff will gladly bring meals and drinks to passengers who cannot reach the "
          "dining car."),
    ("h2", "Planning a group day"),
    ("p", "A typical group day starts in Brenzach with a look behind the scenes of the "
          "workshop, continues with lunch on board and ends with a visit to the railway "
          "museum in Pontaserra before the return journey. On request, our group desk "
          "puts together the whole programme and sends a single invoice for all services."),
]

# ---------------------------------------------------------------------------
# FRENCH
# ---------------------------------------------------------------------------

GUIDE_VOYAGEURS_FR = [
    ("h1", "Guide du voyageur - Saison 2025"),
    ("p", "Bienvenue à bord des trains de la Coopérative ferroviaire du Valmont! Ce guide "
          "réunit les informations pratiques pour préparer votre excursion entre Brenzach "
          "et Pontaserra."),
    ("h2", "Billets et tarifs"),
    ("table", [
        ["Titre de transport", "Prix adulte"],
        ["Aller simple Brenzach - Pontaserra", "CHF 34"],
        ["Carte journalière (trajets illimités)", "CHF 48"],
        ["Supplément train à vapeur", "CHF 10"],
        ["Supplément vélo", "CHF 8"],
    ]),
    ("p", "Les enfants de 6 à 15 ans voyagent à demi-tarif; les enfants de moins de 6 ans "
          "accompagnés voyagent gratuitement. Les billets s'achètent aux guichets de "
          "Brenzach, des Ormeaux et de Pontaserra, dans l'application Valmont Go ou à bord "
          "auprès du contrôleur, moyennant une surtaxe de CHF 3."),
    ("h2", "Horaires et durée du voyage"),
    ("p", "En semaine, le premier train quitte Brenzach à 8h40, puis un train part toutes "
          "les deux heures jusqu'à 16h40. Le dernier train de retour quitte Pontaserra à "
          "18h05. L'horaire complet est affiché dans toutes les gares."),
    ("p", "Le trajet complet de Brenzach à Pontaserra dure 1 h 52 en train électrique. "
          "Avec un train à vapeur, comptez environ 2 h 25, arrêt pour le ravitaillement en "
          "eau aux Ormeaux compris."),
    ("h2", "Venir en transports publics"),
    ("p", "Brenzach est desservi toutes les heures par le train régional venant de la "
          "plaine. À Pontaserra, les cars postaux assurent la correspondance vers les "
          "villages voisins. Un billet combiné avec le car régional est en vente aux "
          "guichets."),
    ("h2", "Trains à vapeur"),
    ("p", "Les trains à vapeur circulent les dimanches de juin à septembre ainsi que "
          "pendant la Fête de la vapeur en août. La réservation d'une place est "
          "obligatoire pour ces trains, car le nombre de sièges est limité à 180 par "
          "train."),
    ("h2", "Vélos et bagages"),
    ("p", "Les vélos sont admis dans la limite de 6 vélos par train. Le week-end, la "
          "réservation de l'emplacement vélo est obligatoire. Les vélos électriques sont "
          "acceptés aux mêmes conditions."),
    ("p", "Les bagages encombrants, comme les skis ou les poussettes, voyagent "
          "gratuitement dans le fourgon."),
    ("h2", "La voiture-restaurant Le Chamois"),
    ("p", "Notre voiture-restaurant de 1929, baptisée Le Chamois, accompagne les trains de "
          "midi. Le service est assuré de 11h30 à 15h00. Le samedi, la fondue "
          "moitié-moitié est au menu; il est vivement recommandé de réserver sa table la "
          "veille."),
    ("h2", "Randonnées au départ des gares"),
    ("p", "Depuis la gare du Col du Valmont, le sentier des Crêtes descend en trois heures "
          "environ jusqu'aux Ormeaux, avec une vue dégagée sur les glaciers. Des cartes "
          "des randonnées sont en vente aux guichets. En cas d'orage, attendez le train à "
          "l'abri de la gare plutôt que sur le quai."),
    ("h2", "Sécurité à bord"),
    ("p", "Il est interdit de se pencher par les fenêtres des trains à vapeur, notamment "
          "dans le tunnel du col. Les plateformes ouvertes des voitures historiques ne "
          "sont pas accessibles aux enfants non accompagnés. En cas de problème, "
          "adressez-vous au contrôleur ou utilisez l'interphone d'urgence."),
    ("h2", "Météo au col"),
    ("p", "Au col du Valmont, il fait souvent dix degrés de moins qu'à Brenzach. Prévoyez "
          "une veste chaude, même en plein été, et des chaussures de marche si vous "
          "comptez faire une randonnée."),
    ("h2", "Voyager avec des enfants"),
    ("p", "Le contrôleur distribue gratuitement aux enfants un livret de jeux sur "
          "l'histoire de la ligne. Un coin enfants avec des jouets en bois se trouve dans "
          "la salle d'attente de Pontaserra."),
    ("h2", "Objets trouvés"),
    ("p", "Les objets oubliés dans les trains sont conservés pendant 90 jours au bureau "
          "des objets trouvés de la gare de Brenzach. Passé ce délai, ils sont remis à une "
          "association caritative."),
    ("h2", "Photographie"),
    ("p", "Les photographes sont les bienvenus. L'utilisation de drones au-dessus des "
          "voies et des gares est interdite sans autorisation écrite de la direction. Ne "
          "traversez jamais les voies pour obtenir une meilleure image."),
    ("h2", "Boutique"),
    ("p", "La boutique de la gare de Brenzach propose des livres, des cartes postales et "
          "des modèles réduits de nos locomotives. Elle est ouverte les jours de "
          "circulation de 9h00 à 17h30."),
]

HORAIRES_DEPOTS_FR = [
    ("h1", "Dépôts et visites guidées: horaires d'ouverture"),
    ("p", "Nos dépôts sont des lieux de travail. Ils sont ouverts au public aux horaires "
          "ci-dessous, à condition de suivre les consignes du personnel."),
    ("table", [
        ["Site", "Jours d'ouverture", "Horaires"],
        ["Dépôt et atelier de Brenzach", "du mardi au dimanche", "9h30 - 17h00"],
        ["Dépôt des Ormeaux", "le samedi uniquement (mai à septembre)", "10h00 - 16h00"],
        ["Remise de Pontaserra", "sur rendez-vous", "-"],
    ]),
    ("h2", "Visites guidées"),
    ("ul", [
        "Départs à Brenzach: 10h30 et 14h00",
        "Durée: 75 minutes",
        "Prix: CHF 12 par adulte, gratuit pour les enfants de moins de 10 ans",
        "Groupes de 20 personnes au maximum",
        "Chaussures fermées obligatoires; les talons hauts ne sont pas admis",
    ]),
    ("h2", "Que voir dans les dépôts?"),
    ("p", "À Brenzach, les visiteurs découvrent la forge, la chaudronnerie et la fosse où "
          "les locomotives à vapeur sont entretenues. Au dépôt des Ormeaux, on peut "
          "observer le matin la préparation des locomotives: allumage du feu, graissage et "
          "remplissage des soutes à charbon."),
    ("h2", "Ateliers pour enfants"),
    ("p", "Pendant les vacances scolaires d'été, le dépôt de Brenzach propose le mercredi "
          "après-midi l'atelier «Petits mécaniciens» pour les enfants de 8 à 12 ans. Prix: "
          "CHF 7 par enfant, goûter compris. L'inscription se fait à l'accueil de "
          "l'atelier."),
    ("h2", "Règles de sécurité pour les visiteurs"),
    ("ul", [
        "Restez toujours derrière les lignes jaunes.",
        "Ne touchez aucune pièce de machine, même si elle semble froide.",
        "Les photos sont autorisées, mais sans flash près des postes de soudure.",
        "Les enfants restent sous la surveillance d'un adulte pendant toute la visite.",
    ]),
    ("h2", "Accès"),
    ("p", "Le dépôt de Brenzach se trouve à dix minutes à pied de la gare, le long de la "
          "rue de l'Atelier. Le dépôt des Ormeaux est situé juste à côté de la gare; "
          "suivez les panneaux bruns «Dépôt historique»."),
    ("h2", "Un peu d'histoire"),
    ("p", "La rotonde des Ormeaux, avec sa plaque tournante d'origine, a été construite en "
          "même temps que la ligne. Elle a été restaurée par des bénévoles entre 2009 et "
          "2014 et reste le plus ancien bâtiment ferroviaire encore en service dans la "
          "vallée."),
    ("h2", "Questions fréquentes"),
    ("ul", [
        "Peut-on visiter sans guide? Oui: pendant les heures d'ouverture, une partie de "
        "la halle de Brenzach est visible depuis la galerie des visiteurs.",
        "Les dépôts sont-ils accessibles en fauteuil roulant? À Brenzach oui, grâce à un "
        "ascenseur vers la galerie; aux Ormeaux, seul le rez-de-chaussée est accessible.",
        "Existe-t-il des visites en allemand? Oui, la visite du dimanche après-midi est "
        "bilingue.",
    ]),
    ("h2", "Contact"),
    ("p", "Le dépôt des Ormeaux est dirigé par Jean-Marc Pittet, qui conduit lui-même la "
          "plupart des visites du samedi. Pour le dépôt de Brenzach, adressez-vous à "
          "l'accueil de l'atelier."),
    ("h2", "Fermetures exceptionnelles"),
    ("p", "Tous les dépôts sont fermés le 25 décembre et le 1er janvier. Le dépôt de "
          "Brenzach est également fermé pendant l'inventaire annuel, du 1er au 3 novembre."),
    ("p", "Stationnement: 40 places gratuites devant le dépôt de Brenzach."),
]

COMMUNIQUE_LUMINA_FR = [
    ("h1", "COMMUNIQUÉ DE PRESSE"),
    ("p", "Brenzach, le 3 octobre 2025"),
    ("h2", "«Lumina»: la Coopérative ferroviaire du Valmont dévoile son premier autorail "
           "à batteries"),
    ("p", "La Coopérative ferroviaire du Valmont présentera au public la maquette grandeur "
          "nature de l'intérieur de son futur autorail à batteries le samedi 11 octobre "
          "2025, de 10h00 à 16h00, devant la halle de l'atelier de Brenzach. Le véhicule, "
          "construit par Stadtmann Fahrzeugbau AG, est le premier de deux exemplaires "
          "commandés cette année; il sera livré au printemps prochain."),
    ("p", "L'autorail offre 96 places assises et atteint une vitesse maximale de 80 km/h. "
          "Ses batteries lui donnent une autonomie de 110 km, soit plus de deux allers "
          "simples entre Brenzach et Pontaserra. La recharge complète prend 25 minutes à "
          "la nouvelle station de recharge de Pontaserra."),
    ("p", "Le nom «Lumina» a été choisi lors d'un concours organisé dans les écoles de la "
          "vallée. La proposition gagnante vient de Léa Baumgartner, 11 ans, élève à "
          "l'école primaire d'Oberfeld, qui sera invitée au premier voyage officiel. "
          "Plus de 300 propositions avaient été envoyées par les élèves."),
    ("p", "«Avec Lumina, nous pourrons circuler toute l'année sans fumée ni bruit de "
          "moteur diesel, tout en gardant nos locomotives à vapeur pour les jours de "
          "fête», déclare Laurent Dufaux, directeur de la coopérative."),
    ("p", "Les deux autorails coûtent au total 19,4 millions de francs, financés à 75 % "
          "par un prêt sans intérêt du canton."),
    ("h2", "Fiche technique"),
    ("ul", [
        "Longueur: 31 mètres, deux caisses articulées",
        "Plancher bas dans la partie centrale, accès de plain-pied",
        "Récupération de l'énergie de freinage dans la descente du col",
        "Climatisation et prises USB à chaque rangée de sièges",
    ]),
    ("p", "Les essais sur la ligne commenceront dès la livraison du premier véhicule. Avant "
          "la mise en service commerciale, les mécaniciens de la coopérative suivront une "
          "formation de conduite chez le constructeur."),
    ("h2", "Calendrier"),
    ("p", "Après la présentation de la maquette, le premier autorail sera acheminé par la "
          "route jusqu'à Brenzach, puis soumis à des essais de nuit sur toute la ligne. Le "
          "second exemplaire suivra quelques mois plus tard. Les deux véhicules "
          "remplaceront progressivement les anciens trains électriques en dehors de la "
          "haute saison."),
    ("h2", "À propos de la coopérative"),
    ("p", "La Coopérative ferroviaire du Valmont exploite la ligne à voie métrique qui "
          "relie Brenzach à Pontaserra par le col du Valmont. Elle emploie des "
          "professionnels du rail et s'appuie sur plusieurs centaines de bénévoles."),
    ("h2", "Contact presse"),
    ("p", "Camille Rochat, responsable de la communication, téléphone +41 27 555 01 22, "
          "presse@valmont-rail.example"),
]

# ---------------------------------------------------------------------------
# GERMAN
# ---------------------------------------------------------------------------

SICHERHEITSHANDBUCH_DE = [
    [  # page 1
        ("h1", "Genossenschaft Valmontbahn - Sicherheitshandbuch"),
        ("p", "Version 3.2, gültig ab 1. März 2025. Ersetzt die Version 3.1 vom Januar 2022."),
        ("h2", "1. Geltungsbereich und Verantwortung"),
        ("p", "Dieses Handbuch gilt für alle Mitarbeitenden, Freiwilligen und Fremdfirmen, "
              "die auf dem Gelände oder im Gleisbereich der Genossenschaft Valmontbahn "
              "tätig sind. Wer die Regeln nicht kennt, darf nicht eingesetzt werden."),
        ("p", "Die Gesamtverantwortung für die Sicherheit trägt die Sicherheitsbeauftragte "
              "Annika Roth. Sie ist seit 2021 im Amt und berichtet direkt an den "
              "Geschäftsführer. Ihr Stellvertreter ist Thomas Gerber, Lokführer und "
              "Ausbildner."),
        ("p", "Die Sicherheitszentrale in Brenzach ist rund um die Uhr unter "
              "+41 27 555 01 99 erreichbar. Intern kann sie von jedem Diensttelefon über "
              "die Kurzwahl 1717 angerufen werden."),
        ("p", "Die Sicherheitskommission tritt viermal pro Jahr zusammen. Ihr gehören die "
              "Sicherheitsbeauftragte, je eine Vertretung der Werkstätte, des Fahrdienstes "
              "und der Freiwilligen sowie ein Mitglied des Vorstands an."),
        ("h2", "Grundsätze"),
        ("ul", [
            "Sicherheit geht vor Pünktlichkeit.",
            "Wer eine Gefahr erkennt, darf und muss den Betrieb anhalten.",
            "Niemand wird für eine Sicherheitsmeldung bestraft, auch wenn sie sich als "
            "unbegründet erweist.",
            "Neue Freiwillige arbeiten bei ihren ersten drei Einsätzen nur in Begleitung "
            "einer erfahrenen Person.",
        ]),
    ],
    [  # page 2
        ("h2", "2. Arbeiten im Gleisbereich"),
        ("ul", [
            "Solange das Gleis nicht gesperrt ist, muss zur äusseren Schiene stets ein "
            "Mindestabstand von 2 Metern eingehalten werden.",
            "Im Gleisbereich sind Warnkleidung der Klasse 2 und ein Schutzhelm zu tragen.",
            "Arbeiten am Gleis sind nur mit einem ausgebildeten Sicherheitswärter "
            "zulässig. Die Verständigung erfolgt über Funkkanal 4.",
            "Kranarbeiten sind einzustellen, sobald die Windgeschwindigkeit 60 km/h "
            "übersteigt.",
        ]),
        ("p", "Die Fahrleitung führt eine Spannung von 1500 Volt Gleichstrom. Arbeiten an "
              "der Fahrleitung oder in ihrer Nähe sind nur erlaubt, nachdem eine "
              "schaltberechtigte Person die Leitung ausgeschaltet und sichtbar geerdet hat. "
              "Auch eine ausgeschaltete Fahrleitung gilt bis zur Erdung als unter Spannung "
              "stehend."),
        ("p", "Für Draisinen und Rottenkraftwagen gilt auf der ganzen Strecke eine "
              "Höchstgeschwindigkeit von 30 km/h."),
        ("p", "Bei Gewitter werden alle Arbeiten im Gleisbereich und an der Fahrleitung "
              "unterbrochen. Die Mitarbeitenden begeben sich in Fahrzeuge oder Gebäude, "
              "keinesfalls unter Bäume oder Masten."),
        ("h3", "Rangieren in Depots"),
        ("p", "In Depots und Abstellanlagen gilt für Rangierbewegungen eine "
              "Höchstgeschwindigkeit von 10 km/h. Vor dem Bewegen eines Fahrzeugs ist durch "
              "einen Rundgang sicherzustellen, dass sich niemand unter oder zwischen den "
              "Fahrzeugen befindet. Hemmschuhe werden nach Gebrauch immer an ihren Platz "
              "zurückgelegt."),
    ],
    [  # page 3
        ("h2", "3. Brandschutz und Tunnel"),
        ("p", "In jedem Personenwagen befinden sich zwei Feuerlöscher mit je 6 kg "
              "Löschpulver. Sie werden jährlich durch eine Fachfirma geprüft."),
        ("p", "Dampflokomotiven können durch Funkenflug Böschungsbrände auslösen. Der "
              "Funkenfänger jeder Dampflok ist vor jeder Fahrt durch das Lokpersonal zu "
              "kontrollieren. Ab Waldbrand-Gefahrenstufe 4 verkehren keine Dampfzüge; sie "
              "werden durch Züge mit der Diesellok ersetzt."),
        ("p", "Im Tunnel des Col du Valmont gilt: Bei einem Brand wird der Zug wenn immer "
              "möglich aus dem Tunnel gefahren. Ist dies nicht möglich, werden die "
              "Reisenden zu Fuss zum nächstgelegenen Portal geführt. Sammelplatz am "
              "Nordportal ist der Parkplatz Alpe Vernet, am Südportal die Kapelle San Rocco."),
        ("p", "Das Rauchen ist in allen Fahrzeugen, Werkstätten und Depots verboten, auch "
              "auf offenen Plattformen."),
        ("h3", "Erste Hilfe"),
        ("p", "Automatische Defibrillatoren befinden sich in den Bahnhöfen Brenzach, "
              "Les Ormeaux und Pontaserra sowie in jedem Triebwagen. Verbandskästen sind in "
              "allen Fahrzeugen vorhanden und werden monatlich kontrolliert. Bei einem "
              "Notfall wird zuerst die Sicherheitszentrale alarmiert, die Rettungsdienste "
              "aufbietet und den Zugverkehr regelt."),
    ],
    [  # page 4
        ("h2", "4. Ausbildung und Meldewesen"),
        ("ul", [
            "Alle Mitarbeitenden und Freiwilligen im Fahrdienst besuchen jährlich einen "
            "obligatorischen Sicherheitskurs von 6 Stunden.",
            "Der Erste-Hilfe-Kurs ist alle 3 Jahre zu wiederholen.",
            "Unfälle, Beinahe-Unfälle und Schäden sind innerhalb von 24 Stunden mit dem "
            "Formular SM-14 zu melden.",
            "Im Dienst gilt ein absolutes Alkoholverbot (0,0 Promille). Es finden "
            "unangekündigte Kontrollen statt.",
            "In der Werkstätte und im Gleisbereich sind Sicherheitsschuhe der Klasse S3 "
            "Pflicht.",
        ]),
        ("p", "Im Jahr 2024 wurden 37 Beinahe-Unfälle gemeldet. Zwei Arbeitsunfälle führten "
              "zu Arbeitsausfällen; keiner davon betraf Reisende. Die Sicherheitskommission "
              "wertet alle Meldungen anonymisiert aus und veröffentlicht die Ergebnisse im "
              "internen Rundbrief."),
        ("h3", "Fremdfirmen"),
        ("p", "Mitarbeitende von Fremdfirmen besuchen vor Arbeitsbeginn eine "
              "Sicherheitsinstruktion von zwei Stunden. Sie erhalten einen Zutrittsausweis, "
              "der höchstens für die Dauer des Auftrags gilt, und arbeiten im Gleisbereich "
              "nur unter Aufsicht der Genossenschaft."),
    ],
    [  # page 5
        ("h2", "5. Arbeitszeit und Ruhezeiten"),
        ("p", "Die Schichtdauer des Lokpersonals beträgt höchstens 10 Stunden. Zwischen "
              "zwei Schichten ist eine Ruhezeit von mindestens 12 Stunden einzuhalten. "
              "Freiwillige dürfen pro Tag höchstens eine Schicht auf dem Führerstand "
              "leisten."),
        ("h2", "6. Persönliche Schutzausrüstung"),
        ("ul", [
            "Gehörschutz bei Arbeiten mit Schleifmaschinen und beim Kesselklopfen",
            "Schutzbrille beim Schweissen und Schleifen",
            "Hitzeschutzhandschuhe für Arbeiten an der Feuerbüchse",
            "Die Ausrüstung wird von der Genossenschaft gestellt und im Magazin Brenzach "
            "ausgegeben.",
        ]),
        ("h2", "7. Überprüfung des Handbuchs"),
        ("p", "Dieses Handbuch wird jährlich von der Sicherheitskommission überprüft und bei "
              "Bedarf angepasst. Änderungen werden allen Betroffenen schriftlich mitgeteilt; "
              "sie bestätigen den Empfang mit ihrer Unterschrift."),
        ("h2", "8. Umgang mit Reisenden"),
        ("p", "Bei Störungen informiert das Zugpersonal die Reisenden spätestens nach zehn "
              "Minuten persönlich oder über die Lautsprecher. Reisende dürfen einen "
              "stehenden Zug auf offener Strecke nur auf Anweisung des Personals "
              "verlassen."),
        ("p", "Von der Geschäftsleitung freigegeben am 10. Februar 2025."),
    ],
]

WARTUNGSPLAN_DE = [
    ("h1", "Wartungsplan Triebfahrzeuge 2026"),
    ("p", "Werkstätte Brenzach - verantwortlich: Paolo Ferretti, Leiter Werkstätte"),
    ("p", "Dieser Plan legt die Unterhaltsintervalle für alle Triebfahrzeuge der "
          "Genossenschaft Valmontbahn fest. Abweichungen müssen vom Leiter Werkstätte "
          "schriftlich bewilligt werden."),
    ("h2", "Fahrzeugpark"),
    ("table", [
        ["Nr.", "Bauart", "Baujahr", "Name"],
        ["11", "Dampflok B 3/4", "1906", "Valmont"],
        ["12", "Dampflok B 3/4", "1906", "Aiglon"],
        ["13", "Dampflok B 3/4", "1912", "Serena"],
        ["21-24", "Elektrotriebwagen Be 4/6", "1964", "-"],
        ["31", "Diesellok Tm 2/2", "1958", "Muli"],
    ]),
    ("h2", "Dampflokomotiven B 3/4 (Nr. 11-13)"),
    ("ul", [
        "Kesselauswaschung: alle 25 Betriebstage",
        "Kesselhauptuntersuchung: alle 8 Jahre, durch den Kesselinspektor",
        "Schmierung der Triebwerkslager: vor jeder Fahrt",
        "Kontrolle der Radreifen: monatlich",
    ]),
    ("h2", "Elektrotriebwagen Be 4/6 (Nr. 21-24)"),
    ("ul", [
        "Hauptrevision: alle 160 000 km",
        "Kontrolle der Stromabnehmer und Schleifleisten: alle 4 Wochen",
        "Bremsprobe: täglich vor der ersten Fahrt",
    ]),
    ("h2", "Diesellok Tm 2/2 (Nr. 31)"),
    ("ul", [
        "Motorservice mit Ölwechsel: alle 500 Betriebsstunden",
        "Die Lok dient als Reserve für Bauzüge und als Ersatz für Dampfzüge bei "
        "Waldbrandgefahr.",
    ]),
    ("h2", "Terminplan 2026"),
    ("table", [
        ["Fahrzeug", "Arbeit", "Zeitraum"],
        ["Triebwagen 22", "Hauptrevision", "Januar bis März 2026"],
        ["Triebwagen 23", "Nachkontrolle des Ersatztransformators", "Februar 2026"],
        ["Lok 31", "Motorservice", "April 2026"],
        ["Batterietriebwagen Lumina", "Inbetriebsetzung und Abnahme", "ab März 2026"],
        ["Lok 11", "Kesselhauptuntersuchung, Abstellung über den Winter", "ab November 2026"],
    ]),
    ("h2", "Werkstätte"),
    ("p", "Die Werkstätte Brenzach verfügt über zwei Untersuchungsgruben, eine Hebeanlage "
          "für 40 Tonnen und seit 2019 über eine Unterflur-Radsatzdrehbank. Für die "
          "Dampflokomotiven ist Werkmeister Urs Kälin zuständig."),
    ("h2", "Regeln in der Werkstätte"),
    ("ul", [
        "Fahrzeuge über einer Grube sind gegen Wegrollen zu sichern.",
        "Arbeiten unter angehobenen Fahrzeugen sind nur mit Unterstellböcken erlaubt.",
        "Am Ende jeder Schicht wird der Zustand jedes Fahrzeugs an der Statustafel "
        "eingetragen: betriebsbereit, eingeschränkt oder gesperrt.",
    ]),
    ("h2", "Ausbildung"),
    ("p", "Die Lernenden der Werkstätte arbeiten während ihrer Lehre in allen "
          "Abteilungen mit, von der Schmiede bis zur Elektrowerkstatt. Arbeiten an "
          "Kesseln und Bremsen führen sie nur unter direkter Aufsicht einer Fachperson "
          "aus."),
    ("h2", "Ersatzteile und Dokumentation"),
    ("p", "Für jede Baureihe wird ein Mindestbestand an Ersatzteilen geführt. Besonders "
          "kritisch sind die Radreifen der Dampflokomotiven, die nur noch von einem "
          "einzigen Hersteller in Tschechien geliefert werden; es sind stets zwei Sätze an "
          "Lager zu halten."),
    ("p", "Jede Arbeit wird im digitalen Fahrzeugbuch erfasst. Ohne Eintrag gilt eine "
          "Arbeit als nicht ausgeführt. Das digitale Fahrzeugbuch hat 2023 die bisherigen "
          "Papierkarten ersetzt."),
    ("h2", "Schmierstoffe und Betriebsmittel"),
    ("p", "Für die Dampflokomotiven wird ausschliesslich Heissdampf-Zylinderöl verwendet. "
          "Altöl wird getrennt gesammelt und von einem zugelassenen Entsorger abgeholt. "
          "Sand für die Sandstreuer wird trocken im Silo neben Grube 1 gelagert."),
    ("p", "Das Unterhaltsbudget für das Jahr 2026 beträgt 1,35 Millionen Franken."),
]

GARANTIE_DE = [
    ("h1", "Garantiebedingungen Batterietriebwagen Lumina"),
    ("p", "Zusammenfassung des Liefervertrags zwischen der Genossenschaft Valmontbahn und "
          "der Stadtmann Fahrzeugbau AG, unterzeichnet am 14. Februar 2025. Massgebend ist "
          "allein der Vertragstext; diese Zusammenfassung dient dem Betriebspersonal als "
          "Übersicht."),
    ("h2", "1. Garantiefristen"),
    ("ul", [
        "Allgemeine Garantie auf das ganze Fahrzeug: 36 Monate ab der Abnahme durch die "
        "Genossenschaft.",
        "Traktionsbatterien: 10 Jahre oder bis die nutzbare Kapazität unter 80 Prozent "
        "fällt, je nachdem, was früher eintritt.",
        "Lack und Korrosionsschutz des Wagenkastens: 15 Jahre.",
        "Software-Updates der Fahrzeugsteuerung: kostenlos während 5 Jahren.",
    ]),
    ("h2", "2. Pflichten des Herstellers"),
    ("p", "Bei einem Garantiefall muss ein Techniker des Herstellers innert 72 Stunden "
          "nach der Meldung vor Ort sein. Ersatzteile für sicherheitsrelevante Komponenten "
          "werden während mindestens 30 Jahren geliefert."),
    ("p", "Ist ein Fahrzeug wegen eines Garantiemangels länger als zwei Wochen nicht "
          "einsatzfähig, schuldet der Hersteller eine Konventionalstrafe von CHF 2500 pro "
          "Tag, höchstens jedoch für 90 Tage."),
    ("h2", "3. Ausschlüsse"),
    ("ul", [
        "Vandalismus, Unfälle und Entgleisungen",
        "Schäden durch unsachgemässe Bedienung oder Nichteinhalten der Ladevorschriften",
        "normale Verschleissteile wie Bremsklötze und Scheibenwischer",
    ]),
    ("h2", "4. Ladevorschriften"),
    ("p", "Die Batterien dürfen nur an der Ladestation Pontaserra oder am Ladeanschluss "
          "der Werkstätte Brenzach geladen werden. Bei Aussentemperaturen unter minus 20 "
          "Grad ist vor dem Laden die Vorheizung einzuschalten. Eine Tiefentladung ist "
          "unbedingt zu vermeiden."),
    ("h2", "5. Abnahme"),
    ("p", "Jedes Fahrzeug wird nach einer Probefahrt von 1000 km ohne sicherheitsrelevante "
          "Störung abgenommen. Erst mit dem unterzeichneten Abnahmeprotokoll beginnen die "
          "Garantiefristen zu laufen."),
    ("h2", "6. Ablauf einer Garantiemeldung"),
    ("ul", [
        "Störung im Fahrzeugbuch erfassen und den Fehlerspeicher auslesen.",
        "Meldung mit Fotos schriftlich an den Hersteller und an die Projektleiterin senden.",
        "Betrifft die Störung Bremsen oder Batterien, das Fahrzeug bis zur Freigabe durch "
        "den Hersteller nicht mehr einsetzen.",
        "Den Reparaturbericht des Herstellers im Fahrzeugbuch ablegen.",
    ]),
    ("h2", "7. Ansprechpersonen"),
    ("p", "Beim Hersteller: Dr. Stefan Brunner, Leiter Kundendienst. Bei der "
          "Genossenschaft: Daniela Frei, Projektleiterin Rollmaterial. Garantiemeldungen "
          "sind immer schriftlich an beide Personen zu richten."),
    ("h2", "8. Schulung"),
    ("p", "Im Rahmen des Vertrags schult der Hersteller bis zu 16 Lokführerinnen und "
          "Lokführer sowie das Werkstattpersonal der Genossenschaft. Die "
          "Schulungsunterlagen gehen in das Eigentum der Genossenschaft über und dürfen "
          "für interne Kurse weiterverwendet werden."),
]

# ---------------------------------------------------------------------------
# SPANISH
# ---------------------------------------------------------------------------

POLITICA_MASCOTAS_ES = [
    ("h1", "Política de animales a bordo"),
    ("p", "Cooperativa Ferroviaria del Valmont - vigente desde el 1 de mayo de 2024"),
    ("p", "Los animales de compañía son bienvenidos en nuestros trenes siempre que no "
          "molesten a los demás viajeros. Estas normas se aplican en todos los trenes "
          "regulares y especiales."),
    ("h2", "Perros"),
    ("ul", [
        "Los perros pequeños de hasta 7 kg viajan gratis si van en un transportín o en "
        "una bolsa cerrada.",
        "Los perros de mayor tamaño necesitan un billete para perros, que cuesta CHF 6 y "
        "es válido todo el día en toda la línea.",
        "Cada pasajero puede llevar como máximo 2 perros.",
        "En los trenes de vapor y en los días de mucha afluencia, los perros grandes "
        "deben llevar bozal.",
        "Los perros no pueden ocupar asientos.",
    ]),
    ("h2", "Perros de asistencia"),
    ("p", "Los perros guía y los perros de asistencia viajan siempre gratis y sin "
          "restricciones, incluido el coche restaurante."),
    ("h2", "Otros animales"),
    ("p", "Gatos, conejos, aves y otros animales pequeños pueden viajar gratis en una caja "
          "o jaula cerrada. No se admiten reptiles ni animales de granja."),
    ("h2", "Coche restaurante"),
    ("p", "Con excepción de los perros de asistencia, los animales no están permitidos en "
          "el coche restaurante."),
    ("h2", "Viajeros con alergias"),
    ("p", "Para los viajeros con alergia a los animales, el primer coche de cada tren "
          "eléctrico está reservado a personas sin animales, salvo perros de asistencia. "
          "Está señalizado con un pictograma verde junto a las puertas."),
    ("h2", "Servicios para mascotas"),
    ("p", "En la estación de Les Ormeaux hay un bebedero para perros junto al andén 1, y "
          "en Pontaserra se pueden pedir bolsas para excrementos en la taquilla."),
    ("h2", "Perros en las estaciones"),
    ("p", "En los andenes y en las salas de espera los perros deben ir siempre atados con "
          "una correa corta. En la sala de espera de Brenzach hay un rincón con mantas "
          "para los animales."),
    ("h2", "Consejos para viajar con tu perro"),
    ("ul", [
        "Antes del viaje, da un paseo largo con tu perro.",
        "Lleva agua suficiente, sobre todo en verano.",
        "En el túnel del col el ruido y la oscuridad pueden asustar a algunos animales; "
        "mantén a tu perro cerca de ti.",
        "Sube al tren con calma y espera a que hayan bajado los demás viajeros.",
    ]),
    ("h2", "Preguntas frecuentes"),
    ("ul", [
        "¿Puede mi perro entrar en el museo de Pontaserra? No, allí solo se admiten "
        "perros de asistencia.",
        "¿Hay que reservar plaza para el perro? No, no es necesario reservar.",
        "¿Se puede viajar con un burro o un caballo? No, los animales de granja no se "
        "admiten en ningún tren.",
    ]),
    ("h2", "Incumplimiento"),
    ("p", "Quien viaje con un perro grande sin billete pagará un recargo de CHF 40 además "
          "del billete. El personal del tren puede excluir del viaje a los animales que "
          "pongan en peligro a otras personas."),
    ("p", "Preguntas y sugerencias: Raúl Medina, responsable de atención al cliente, "
          "clientes@valmont-rail.example"),
]

VOLUNTARIADO_ES = [
    ("h1", "Hazte voluntario en el tren del Valmont"),
    ("p", "Sin la ayuda de nuestros voluntarios, los trenes históricos del Valmont no "
          "podrían circular. Buscamos personas de todas las edades y procedencias que "
          "quieran dedicar parte de su tiempo libre al ferrocarril."),
    ("h2", "Requisitos"),
    ("ul", [
        "Edad mínima: 16 años (para trabajos en la vía: 18 años)",
        "Compromiso mínimo: 6 jornadas de servicio al año",
        "Conocimientos básicos de alemán, francés o italiano",
        "Participación en el curso de formación inicial",
    ]),
    ("h2", "Áreas de colaboración"),
    ("table", [
        ["Área", "Formación necesaria", "Temporada"],
        ["Revisor/a en los trenes", "curso de 3 días", "de abril a octubre"],
        ["Servicio de bufé y tienda", "media jornada de introducción", "todo el año"],
        ["Mantenimiento de la vía", "curso de seguridad", "de enero a marzo y noviembre"],
        ["Guía en el museo de Pontaserra", "visita de formación con la conservadora",
         "todo el año"],
    ]),
    ("h2", "Formación inicial"),
    ("p", "El próximo curso de formación inicial tendrá lugar el fin de semana del 14 y 15 "
          "de marzo de 2026 en Brenzach. El curso es gratuito e incluye alojamiento y "
          "comidas."),
    ("h2", "Ventajas"),
    ("ul", [
        "Viaje gratuito en toda la línea durante todo el año",
        "Descuento del 20 % en la tienda de la cooperativa",
        "Comida gratuita en los días de servicio",
        "Alojamiento en la Casa Ormeaux, la casa de voluntarios junto a la estación de "
        "Les Ormeaux: 12 camas, CHF 15 por noche",
    ]),
    ("h2", "Seguro y seguridad"),
    ("p", "Todos los voluntarios están asegurados contra accidentes durante el servicio y "
          "en el trayecto de ida y vuelta. El equipo de protección (chaleco, casco y "
          "guantes) se entrega gratuitamente y debe devolverse al terminar la "
          "colaboración."),
    ("h2", "Intercambio con España"),
    ("p", "Desde 2018 mantenemos un intercambio con el Ferrocarril Turístico de Sierra "
          "Alta, en la provincia de Teruel. Cada verano, 8 voluntarios españoles pasan dos "
          "semanas en el Valmont, y un grupo de nuestra cooperativa viaja a Aragón en "
          "otoño."),
    ("h2", "Voluntariado de empresa"),
    ("p", "Las empresas de la región pueden organizar una jornada de voluntariado "
          "corporativo para pequeños equipos. Los participantes ayudan a limpiar la "
          "vegetación junto a la vía o a pintar las vallas de las estaciones, siempre "
          "acompañados por voluntarios con experiencia."),
    ("h2", "Un día de servicio"),
    ("p", "Un día típico de un revisor empieza a las 7:30 en Brenzach con la reunión del "
          "personal del tren. Después del último viaje se entrega la caja y se comenta "
          "brevemente la jornada. Quien viene de lejos puede dormir la noche anterior en "
          "la casa de voluntarios."),
    ("h2", "Testimonio"),
    ("p", "«Empecé en el bufé y hoy soy revisora en los trenes de vapor. Lo mejor es el "
          "ambiente: aquí trabajan juntos estudiantes, jubilados y familias enteras», "
          "cuenta Marta Gil, voluntaria desde 2019."),
    ("h2", "Cómo inscribirse"),
    ("p", "Rellena el formulario en línea o pídelo en cualquier taquilla. Tras recibir tu "
          "solicitud, la coordinadora te llamará para una breve entrevista y te propondrá "
          "una primera jornada de prueba sin compromiso."),
    ("h2", "Contacto"),
    ("p", "Coordinadora de voluntariado: Lucía Navarro. Reunión abierta para interesados: "
          "el primer martes de cada mes a las 19:00 en la sala del depósito de Les Ormeaux."),
]

SOSTENIBILIDAD_ES = [
    [  # page 1
        ("h1", "Informe de sostenibilidad 2025"),
        ("p", "Cooperativa Ferroviaria del Valmont. Responsable de sostenibilidad: "
              "Javier Ortega."),
        ("p", "Este informe resume por segunda vez el impacto ambiental de la cooperativa. "
              "Los datos proceden de las facturas de energía, de los registros del "
              "taller de Brenzach y de las mediciones propias en la línea."),
        ("h2", "1. Energía"),
        ("p", "En 2025 los trenes eléctricos consumieron 3,1 GWh de electricidad de "
              "tracción. Toda la energía procede de la central hidroeléctrica de Lago Nero, "
              "con la que la cooperativa firmó en 2023 un contrato de suministro por diez "
              "años."),
        ("p", "En el tejado de la cochera de Les Ormeaux funciona desde 2024 una instalación "
              "solar de 420 kWp. En su primer año completo, 2025, produjo 398 MWh, es "
              "decir, aproximadamente el 13 % del consumo de tracción."),
        ("p", "Los edificios se calientan con bombas de calor desde 2021; la última caldera "
              "de gasóleo, en la estación de Oberfeld, se retiró en diciembre de 2025."),
        ("p", "El automotor de baterías que llegará en 2026 se cargará principalmente en "
              "Pontaserra. Se estudia instalar allí una segunda planta solar sobre el "
              "andén cubierto."),
    ],
    [  # page 2
        ("h2", "2. Locomotoras de vapor"),
        ("p", "Las tres locomotoras de vapor siguen siendo la principal fuente de emisiones "
              "directas. En 2025 consumieron 640 toneladas de carbón, frente a 590 toneladas "
              "el año anterior, debido al mayor número de trenes de vapor."),
        ("p", "Las emisiones totales de la cooperativa alcanzaron 2150 toneladas de CO2, de "
              "las cuales el 91 % corresponde al carbón."),
        ("p", "A partir de la temporada 2026 se probará una mezcla con un 30 % de biocarbón "
              "procedente de residuos forestales de la región. Si la prueba tiene éxito, la "
              "proporción podría aumentar al 50 % en 2028."),
        ("p", "Una locomotora de vapor consume unos 9000 litros de agua en un viaje de ida y "
              "vuelta entre Brenzach y Pontaserra. El agua se toma de un manantial propio "
              "en Les Ormeaux."),
        ("p", "La ceniza y la escoria, unas 55 toneladas al año, se entregan a una empresa "
              "de materiales de construcción. Desde 2025 cada locomotora lleva un "
              "registrador que anota el consumo de carbón por viaje, lo que permite "
              "comparar estilos de conducción y formar mejor a los fogoneros."),
    ],
    [  # page 3
        ("h2", "3. Biodiversidad y residuos"),
        ("p", "Desde 2022 la cooperativa no utiliza herbicidas. La vegetación de la vía se "
              "controla con agua caliente y con trabajos manuales de los voluntarios."),
        ("p", "En 2025 se plantaron 1200 árboles autóctonos en los taludes cercanos a "
              "Oberfeld para estabilizar el terreno y crear hábitats para aves."),
        ("p", "En el jardín de la estación de Pontaserra hay 6 colmenas atendidas por un "
              "apicultor local; la miel se vende en la tienda de la cooperativa."),
        ("p", "La tasa de reciclaje de residuos alcanzó el 78 % en 2025. Las traviesas de "
              "madera retiradas se entregan a empresas certificadas. En la jornada de "
              "limpieza de abril, los voluntarios recogieron más de dos toneladas de basura "
              "a lo largo de la vía."),
        ("p", "Para reducir las molestias por ruido, los silbatos de las locomotoras se "
              "usan solo en los pasos a nivel sin barreras y nunca entre las 22:00 y las "
              "7:00. Los vecinos pueden enviar sus observaciones al responsable de "
              "sostenibilidad."),
        ("h2", "4. Objetivos"),
        ("p", "La cooperativa quiere alcanzar la neutralidad climática en 2035. Para ello "
              "prevé sustituir progresivamente el carbón y compensar solo las emisiones que "
              "no puedan evitarse. Antes de 2030 las emisiones deberán reducirse a la mitad "
              "respecto al nivel de 2025."),
    ],
    [  # page 4
        ("h2", "5. Movilidad de los visitantes"),
        ("p", "Según una encuesta realizada en julio de 2025 entre 1340 viajeros, el 62 % de "
              "los visitantes llegó a Brenzach o a Pontaserra en transporte público. Para "
              "reducir los desplazamientos en coche, la cooperativa vende desde 2025 un "
              "billete combinado con el autobús regional del valle."),
        ("p", "Los días de gran afluencia, un autobús lanzadera une los aparcamientos "
              "exteriores con la estación de Brenzach. Los ciclistas pueden dejar su "
              "bicicleta en un aparcamiento vigilado junto a la estación."),
        ("h2", "6. Dimensión social"),
        ("p", "La cooperativa da empleo a personas de la región y colabora con dos talleres "
              "protegidos que se encargan de la limpieza de los coches y del cuidado de los "
              "jardines de las estaciones."),
        ("p", "Gracias a las tarifas reducidas para escolares, todas las escuelas del cantón "
              "del Valmont pueden visitar la línea al menos una vez durante la escolaridad "
              "obligatoria. En 2025 viajaron con nosotros 176 clases."),
    ],
]

# ---------------------------------------------------------------------------
# ITALIAN
# ---------------------------------------------------------------------------

GALLERIA_IT = [
    [  # page 1
        ("h1", "Progetto Galleria del Col du Valmont 2026-2027"),
        ("p", "Cooperativa Ferroviaria del Valmont - documento informativo per soci e "
              "comuni, versione di settembre 2025"),
        ("h2", "1. La galleria"),
        ("p", "La galleria del Col du Valmont è stata completata nel 1908 ed è lunga 2840 "
              "metri. Il suo punto più alto si trova a 1412 metri sul livello del mare ed "
              "è quindi il punto culminante di tutta la linea."),
        ("p", "Dopo oltre un secolo di esercizio il rivestimento in muratura presenta "
              "numerose fessure, e in primavera le infiltrazioni d'acqua formano lastre di "
              "ghiaccio sui binari. Un'ispezione del 2024 ha classificato lo stato della "
              "galleria come «insufficiente»."),
        ("p", "La galleria è a binario unico e non dispone di nicchie di sicurezza moderne. "
              "A causa dello stato del rivestimento, dal 2020 i treni la percorrono a "
              "velocità ridotta, con una perdita di tempo di alcuni minuti per corsa."),
        ("p", "Capo progetto è l'ingegner Marco Venturi, che ha già diretto il risanamento "
              "di diverse gallerie ferroviarie in Ticino."),
        ("h3", "Un po' di storia"),
        ("p", "Lo scavo fu eseguito in parte a mano e in parte con perforatrici ad aria "
              "compressa da circa 600 operai, in gran parte provenienti dal Piemonte e dalla "
              "Lombardia. Una lapide all'imbocco sud ricorda i minatori che persero la vita "
              "durante i lavori."),
    ],
    [  # page 2
        ("h2", "2. Costi, finanziamento e calendario"),
        ("p", "Il costo complessivo è stimato in 23 milioni di franchi. Il finanziamento è "
              "ripartito come segue:"),
        ("ul", [
            "Confederazione: 60 %",
            "Cantone del Valmont: 25 %",
            "Cooperativa Ferroviaria del Valmont: 15 %, coperto in parte da una raccolta "
            "fondi tra i soci",
        ]),
        ("p", "I lavori sono stati aggiudicati all'impresa Costruzioni Rezzonico SA di "
              "Bellinzona. La tratta tra Les Ormeaux e Pontaserra resterà chiusa dal 12 "
              "ottobre 2026 al 30 aprile 2027. Tra Brenzach e Les Ormeaux i treni "
              "continueranno a circolare."),
        ("p", "Il sito internet del progetto pubblicherà ogni settimana le foto del "
              "cantiere, e una webcam all'imbocco nord mostrerà l'avanzamento dei lavori in "
              "diretta."),
        ("h3", "Fasi dei lavori"),
        ("ul", [
            "autunno 2026: smontaggio del vecchio binario e scavo del nuovo drenaggio",
            "inverno 2026-2027: risanamento del rivestimento, con lavori su tre turni",
            "primavera 2027: posa del nuovo binario, prove e collaudo",
        ]),
        ("h3", "Rischi"),
        ("p", "Il preventivo comprende una riserva per imprevisti del 12 %. I rischi "
              "principali sono una quantità di acqua sotterranea maggiore del previsto e un "
              "inverno particolarmente rigido, che potrebbe ritardare i lavori all'imbocco "
              "nord. Il consiglio di amministrazione riceverà un rapporto sull'avanzamento "
              "ogni due mesi."),
    ],
    [  # page 3
        ("h2", "3. Interventi tecnici"),
        ("ul", [
            "nuovo sistema di drenaggio lungo tutta la galleria",
            "abbassamento del binario di 35 centimetri per ampliare la sagoma",
            "illuminazione di emergenza a LED ogni 25 metri",
            "copertura radio e telefonia mobile in tutta la galleria",
        ]),
        ("h2", "4. Servizio sostitutivo"),
        ("p", "Durante la chiusura un servizio di autobus collegherà Les Ormeaux e "
              "Pontaserra ogni 60 minuti. Il viaggio in autobus dura circa 40 minuti, perché "
              "la strada del passo è più lunga della ferrovia. I biglietti del treno sono "
              "validi anche sugli autobus."),
        ("h2", "5. Ambiente e vicinato"),
        ("p", "Il materiale di scavo, circa 18 000 metri cubi, verrà trasportato con treni "
              "cantiere fino alla cava di Les Ormeaux e riutilizzato. I lavori notturni più "
              "rumorosi saranno limitati alle notti tra lunedì e giovedì. Gli abitanti della "
              "frazione di San Rocco riceveranno ogni mese una lettera informativa."),
        ("h3", "Domande frequenti"),
        ("ul", [
            "I treni circoleranno durante i lavori? Sì, ma solo tra Brenzach e Les Ormeaux.",
            "Le biciclette possono salire sugli autobus sostitutivi? Solo due per corsa, "
            "sul portabiciclette posteriore.",
            "Ci saranno visite del cantiere? Sì, due giornate aperte sono previste in "
            "primavera 2027.",
        ]),
        ("p", "Informazioni: ufficio progetto galleria, Pontaserra, aperto il giovedì dalle "
              "14:00 alle 18:00."),
    ],
]

REGOLAMENTO_SOCI_IT = [
    ("h1", "Regolamento per i soci"),
    ("p", "Cooperativa Ferroviaria del Valmont - approvato dall'assemblea generale del 14 "
          "giugno 2025"),
    ("h2", "1. Come diventare socio"),
    ("p", "Può diventare socio ogni persona fisica o giuridica che condivide gli scopi "
          "della cooperativa. La domanda di adesione si presenta per iscritto alla "
          "segreteria soci; il consiglio di amministrazione decide sull'ammissione."),
    ("h2", "2. Quote e contributi"),
    ("ul", [
        "Quota sociale: CHF 250, versata una sola volta e rimborsata in caso di uscita",
        "Contributo annuo: CHF 85",
        "Contributo annuo ridotto per i giovani sotto i 25 anni: CHF 30",
        "Persone giuridiche: contributo annuo di CHF 400",
    ]),
    ("h2", "3. Diritti dei soci"),
    ("ul", [
        "Ogni socio dispone di un solo voto all'assemblea generale, indipendentemente dal "
        "numero di quote possedute.",
        "Ogni socio riceve ogni anno due carte giornaliere gratuite.",
        "La rivista dei soci «Il Fischio» esce con 4 numeri all'anno.",
        "I soci possono partecipare ai viaggi a loro riservati, come il treno "
        "d'inaugurazione della stagione.",
    ]),
    ("h2", "4. Uscita"),
    ("p", "L'uscita dalla cooperativa è possibile alla fine di ogni anno civile, con un "
          "preavviso di 3 mesi. La quota sociale viene rimborsata entro sei mesi "
          "dall'approvazione dei conti."),
    ("h2", "5. Assemblea generale"),
    ("p", "L'assemblea generale ordinaria si tiene una volta all'anno, di regola in "
          "giugno. La convocazione con l'ordine del giorno viene spedita almeno 30 giorni "
          "prima. Le proposte dei soci devono pervenire al consiglio di amministrazione "
          "entro il 31 marzo. L'assemblea delibera a maggioranza semplice dei voti "
          "espressi; per modificare lo statuto è necessaria la maggioranza dei due terzi."),
    ("h2", "6. Tessera di socio"),
    ("p", "Ogni socio riceve una tessera personale valida per l'anno civile in corso. La "
          "tessera dà diritto a uno sconto del 10 % sulle pubblicazioni della cooperativa "
          "e va presentata per ritirare le carte giornaliere gratuite."),
    ("h2", "7. Soci onorari"),
    ("p", "Su proposta del consiglio di amministrazione, l'assemblea generale può nominare "
          "soci onorari le persone che si sono distinte in modo particolare per la "
          "cooperativa. I soci onorari sono esonerati dal contributo annuo."),
    ("h2", "8. Dati personali"),
    ("p", "I dati dei soci sono usati esclusivamente per la gestione della cooperativa e "
          "non vengono mai ceduti a terzi. Ogni socio può chiedere in qualsiasi momento di "
          "consultarli, correggerli o farli cancellare dopo l'uscita."),
    ("h2", "9. Segreteria soci"),
    ("p", "Segreteria soci: Federica Longhi, Bahnhofstrasse 4, Brenzach. Orari "
          "telefonici: martedì e giovedì dalle 9:00 alle 12:00."),
]

MUSEO_IT = [
    ("h1", "Museo ferroviario di Pontaserra"),
    ("p", "Il museo della Cooperativa Ferroviaria del Valmont è stato inaugurato nel 2003 "
          "nella vecchia rimessa delle locomotive accanto alla stazione di Pontaserra. "
          "Racconta la storia della linea, dei suoi costruttori e delle persone che l'hanno "
          "salvata."),
    ("h2", "Orari"),
    ("table", [
        ["Periodo", "Giorni", "Orario"],
        ["Aprile - ottobre", "da mercoledì a domenica", "10:00 - 18:00"],
        ["Novembre - marzo", "sabato e domenica", "13:00 - 17:00"],
    ]),
    ("h2", "Biglietti"),
    ("ul", [
        "Adulti: CHF 14",
        "Bambini dai 6 ai 15 anni: CHF 6",
        "Soci della cooperativa e volontari: ingresso gratuito",
        "Biglietto combinato treno + museo: sconto di CHF 5 sul prezzo del museo",
    ]),
    ("h2", "Le collezioni"),
    ("p", "Il pezzo più antico della collezione è la carrozza di terza classe C 4 n. 3, "
          "costruita nel 1896 per una ferrovia di montagna dell'Oberland e arrivata a "
          "Pontaserra nel 1999."),
    ("p", "Grande attrazione per i bambini è il plastico in scala H0 (1:87), che riproduce "
          "l'intera linea su 310 metri di binari."),
    ("p", "La biblioteca conserva circa 4500 volumi e 280 orari storici ed è consultabile "
          "su appuntamento."),
    ("h2", "Attività per le scuole"),
    ("p", "Per le classi il museo offre laboratori sul funzionamento della locomotiva a "
          "vapore e sulla costruzione della linea. I laboratori durano due ore e vanno "
          "prenotati con almeno due settimane di anticipo."),
    ("h2", "Come arrivare"),
    ("p", "Il museo si trova a cinque minuti a piedi dalla stazione di Pontaserra: uscire "
          "dalla stazione, girare a sinistra e seguire i binari fino al grande portone "
          "verde. Nelle vicinanze non ci sono parcheggi; si consiglia di arrivare in treno."),
    ("h2", "Servizi"),
    ("p", "All'interno del museo si trovano un piccolo caffè, un guardaroba gratuito e un "
          "negozio con libri e modellini. Il museo è accessibile in sedia a rotelle, ad "
          "eccezione del soppalco della biblioteca."),
    ("h2", "Eventi"),
    ("p", "Ogni prima domenica di settembre il museo organizza la «Giornata delle porte "
          "aperte», con visite guidate gratuite, giri in draisina per i bambini e "
          "dimostrazioni del telegrafo ferroviario."),
    ("h2", "La storia della rimessa"),
    ("p", "La rimessa che ospita il museo fu costruita insieme alla stazione di Pontaserra "
          "e poteva accogliere tre locomotive. Dopo la chiusura della linea servì come "
          "deposito di legname, finché la cooperativa non la acquistò e la restaurò con "
          "l'aiuto del comune."),
    ("h2", "Donazioni alla collezione"),
    ("p", "Il museo accetta in dono fotografie, documenti e oggetti legati alla linea. "
          "Prima di portare un oggetto, si prega di contattare la curatrice per verificare "
          "che non sia già presente nella collezione."),
    ("h2", "Chi siamo"),
    ("p", "La curatrice del museo è Giulia Bassani, storica dell'arte, affiancata da un "
          "gruppo di circa venti volontari."),
]

BIGLIETTERIA_IT = [
    ("h1", "Manuale per il personale di biglietteria"),
    ("p", "Versione 2025 - responsabile del servizio biglietteria: Elena Conti"),
    ("h2", "1. Apertura e chiusura"),
    ("ul", [
        "Gli sportelli aprono 30 minuti prima della partenza del primo treno.",
        "Ogni sportello inizia la giornata con un fondo cassa di CHF 300.",
        "La chiusura della cassa si effettua ogni giorno alle 18:15, anche se sono "
        "previsti treni serali.",
        "Quando in cassa ci sono più di CHF 2000 in contanti, l'eccedenza va versata "
        "nella cassaforte.",
    ]),
    ("h2", "2. Pagamenti"),
    ("p", "Si accettano contanti in franchi svizzeri ed euro, carte di debito e di credito "
          "e TWINT. Gli euro sono accettati solo in banconote; il resto viene dato in "
          "franchi. Per i pagamenti con carta non c'è un importo minimo."),
    ("h2", "3. Rimborsi"),
    ("p", "I biglietti non utilizzati possono essere rimborsati entro 14 giorni dalla data "
          "di validità, trattenendo una commissione di CHF 4. I biglietti acquistati "
          "nell'app si rimborsano solo tramite l'app. I biglietti smarriti non vengono né "
          "rimborsati né sostituiti."),
    ("h2", "4. Casi particolari"),
    ("ul", [
        "Volontari: viaggiano con la tessera di volontario, non si emette alcun biglietto.",
        "Soci: le carte giornaliere gratuite si ritirano allo sportello presentando la "
        "tessera di socio.",
        "Reclami: annotarli nel registro dei reclami e trasmetterli al servizio clienti "
        "entro la fine della settimana.",
    ]),
    ("h2", "5. Informazioni ai viaggiatori"),
    ("p", "Il personale di biglietteria è spesso il primo contatto dei visitatori. Oltre "
          "alla vendita dei biglietti fornisce informazioni su orari, coincidenze con gli "
          "autopostali e offerte speciali. Se non si conosce la risposta a una domanda, "
          "annotare il recapito del cliente e richiamarlo entro il giorno successivo."),
    ("h2", "6. Lingue"),
    ("p", "Il personale deve saper dare informazioni di base in italiano, tedesco e "
          "francese. Per i visitatori di lingua inglese è disponibile allo sportello un "
          "foglio con le frasi più utili e una piantina della linea."),
    ("h2", "7. Sicurezza"),
    ("p", "In caso di rapina non opporre resistenza e consegnare il denaro. Il pulsante "
          "d'allarme sotto il bancone è collegato direttamente con la polizia cantonale. "
          "Dopo l'evento compilare un rapporto e informare subito la responsabile del "
          "servizio."),
    ("h2", "8. Fine stagione"),
    ("p", "Alla fine della stagione ogni sportello esegue un inventario completo dei "
          "biglietti prestampati e del materiale informativo. Le stampanti dei biglietti "
          "vengono pulite e riposte in magazzino, e i codici personali di accesso al "
          "sistema di vendita vengono disattivati fino alla nuova stagione."),
    ("h2", "9. Rendiconto"),
    ("p", "Il rendiconto mensile delle vendite va inviato alla contabilità entro il 5 del "
          "mese successivo. Le differenze di cassa superiori a CHF 20 devono essere "
          "giustificate per iscritto."),
]

# HTML-only extras: a <style> and a <script> whose text is NOT content.
HTML_EXTRAS = {
    "horaires_depots_fr.html": (
        'var horairesSecours = "Ouvert 24h/24 - INFO-TEST-7731";\n'
        "document.addEventListener('DOMContentLoaded', function () {\n"
        "  console.log(horairesSecours);\n});"),
    "programa_voluntariado_es.html": (
        "var plazasLibres = 9999;\n"
        'var aviso = "TEXTO-DE-PRUEBA-5520: plazas ilimitadas";'),
    "museo_ferroviario_it.html": (
        "var visitatoriDemo = 123456;\n"
        'const bannerTest = "TESTO-SCRIPT-3390 ingresso gratuito per tutti";'),
}

# ---------------------------------------------------------------------------
# Document registry: (file name, language, title, content)
# ---------------------------------------------------------------------------

DOCUMENTS = [
    ("annual_report_2025_en.pdf", "en", "Valmont Rail Cooperative - Annual Report 2025", ANNUAL_REPORT_EN),
    ("board_minutes_2025_11_en.md", "en", "Minutes of the Board Meeting, 18 November 2025", BOARD_MINUTES_EN),
    ("accessible_travel_groups_en.docx", "en", "Accessible Travel and Group Visits", ACCESSIBILITY_EN),
    ("guide_voyageurs_fr.docx", "fr", "Guide du voyageur - Saison 2025", GUIDE_VOYAGEURS_FR),
    ("horaires_depots_fr.html", "fr", "Horaires d'ouverture des dépôts - Coopérative ferroviaire du Valmont", HORAIRES_DEPOTS_FR),
    ("communique_presse_lumina_fr.txt", "fr", "Communiqué de presse Lumina", COMMUNIQUE_LUMINA_FR),
    ("sicherheitshandbuch_de.pdf", "de", "Genossenschaft Valmontbahn - Sicherheitshandbuch", SICHERHEITSHANDBUCH_DE),
    ("wartungsplan_triebfahrzeuge_de.md", "de", "Wartungsplan Triebfahrzeuge 2026", WARTUNGSPLAN_DE),
    ("garantiebedingungen_lumina_de.txt", "de", "Garantiebedingungen Batterietriebwagen Lumina", GARANTIE_DE),
    ("politica_mascotas_es.txt", "es", "Política de animales a bordo", POLITICA_MASCOTAS_ES),
    ("programa_voluntariado_es.html", "es", "Programa de voluntariado 2026 - Cooperativa Ferroviaria del Valmont", VOLUNTARIADO_ES),
    ("informe_sostenibilidad_2025_es.pdf", "es", "Informe de sostenibilidad 2025", SOSTENIBILIDAD_ES),
    ("progetto_galleria_col_du_valmont_it.pdf", "it", "Progetto Galleria del Col du Valmont 2026-2027", GALLERIA_IT),
    ("regolamento_soci_it.docx", "it", "Regolamento per i soci", REGOLAMENTO_SOCI_IT),
    ("museo_ferroviario_it.html", "it", "Museo ferroviario di Pontaserra", MUSEO_IT),
    ("manuale_biglietteria_it.md", "it", "Manuale per il personale di biglietteria", BIGLIETTERIA_IT),
]

# ---------------------------------------------------------------------------
# Renderers
# ---------------------------------------------------------------------------


def _latin1(text: str) -> str:
    text.encode("latin-1")  # raises if a character is not supported by core fonts
    return text


def render_pdf(path: Path, lang: str, title: str, pages) -> None:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(FIXED_DT)
    pdf.set_title(title)
    pdf.set_author(AUTHOR)
    pdf.set_creator("Folio sample generator")
    pdf.set_producer("fpdf2")
    pdf.set_lang(lang)
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=20)
    w = pdf.epw
    for page_no, blocks in enumerate(pages, start=1):
        pdf.add_page()
        for kind, payload in blocks:
            if kind == "h1":
                pdf.set_font("Helvetica", "B", 16)
                pdf.multi_cell(w, 8, _latin1(payload), new_x="LMARGIN", new_y="NEXT")
                pdf.ln(3)
            elif kind in ("h2", "h3"):
                pdf.ln(2)
                pdf.set_font("Helvetica", "B", 13 if kind == "h2" else 11)
                pdf.multi_cell(w, 7, _latin1(payload), new_x="LMARGIN", new_y="NEXT")
                pdf.ln(1)
            elif kind == "p":
                pdf.set_font("Helvetica", "", 11)
                pdf.multi_cell(w, 5.5, _latin1(payload), new_x="LMARGIN", new_y="NEXT")
                pdf.ln(2.5)
            elif kind == "ul":
                pdf.set_font("Helvetica", "", 11)
                for item in payload:
                    pdf.set_x(pdf.l_margin + 4)
                    pdf.multi_cell(w - 4, 5.5, _latin1("- " + item),
                                   new_x="LMARGIN", new_y="NEXT")
                    pdf.ln(1)
                pdf.ln(1.5)
            elif kind == "table":
                pdf.set_font("Helvetica", "", 10)
                for row in payload:
                    pdf.multi_cell(w, 5.5, _latin1(" | ".join(row)),
                                   new_x="LMARGIN", new_y="NEXT")
                pdf.ln(2)
            else:
                raise ValueError(kind)
        if pdf.page_no() != page_no:
            raise RuntimeError(f"{path.name}: logical page {page_no} overflowed")
    pdf.output(str(path))


def render_docx(path: Path, lang: str, title: str, blocks) -> None:
    import docx

    doc = docx.Document()
    for kind, payload in blocks:
        if kind == "h1":
            doc.add_heading(payload, level=1)
        elif kind == "h2":
            doc.add_heading(payload, level=2)
        elif kind == "h3":
            doc.add_heading(payload, level=3)
        elif kind == "p":
            doc.add_paragraph(payload)
        elif kind == "ul":
            for item in payload:
                doc.add_paragraph(item, style="List Bullet")
        elif kind == "table":
            table = doc.add_table(rows=len(payload), cols=len(payload[0]))
            table.style = "Table Grid"
            for r, row in enumerate(payload):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
        else:
            raise ValueError(kind)
    cp = doc.core_properties
    cp.title = title
    cp.author = AUTHOR
    cp.last_modified_by = AUTHOR
    cp.language = lang
    cp.created = FIXED_DT.replace(tzinfo=None)
    cp.modified = FIXED_DT.replace(tzinfo=None)
    cp.last_printed = FIXED_DT.replace(tzinfo=None)
    cp.revision = 1
    buf = io.BytesIO()
    doc.save(buf)
    # Re-pack the zip with fixed timestamps so reruns give identical bytes.
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=ZIP_DT)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            dst.writestr(zi, src.read(info.filename))
    path.write_bytes(out.getvalue())


def render_markdown(blocks) -> str:
    lines: list[str] = []
    for kind, payload in blocks:
        if kind in ("h1", "h2", "h3"):
            lines += ["#" * int(kind[1]) + " " + payload, ""]
        elif kind == "p":
            lines += [payload, ""]
        elif kind == "ul":
            lines += ["- " + item for item in payload] + [""]
        elif kind == "table":
            head, *rows = payload
            lines.append("| " + " | ".join(head) + " |")
            lines.append("|" + "|".join("---" for _ in head) + "|")
            lines += ["| " + " | ".join(r) + " |" for r in rows]
            lines.append("")
        else:
            raise ValueError(kind)
    return "\n".join(lines).rstrip() + "\n"


def render_text(blocks) -> str:
    lines: list[str] = []
    for kind, payload in blocks:
        if kind == "h1":
            lines += [payload, "=" * len(payload), ""]
        elif kind in ("h2", "h3"):
            lines += [payload, "-" * len(payload), ""]
        elif kind == "p":
            lines += [payload, ""]
        elif kind == "ul":
            lines += ["  * " + item for item in payload] + [""]
        elif kind == "table":
            lines += ["  " + " | ".join(r) for r in payload] + [""]
        else:
            raise ValueError(kind)
    return "\n".join(lines).rstrip() + "\n"


HTML_STYLE = """body { font-family: Georgia, serif; max-width: 46rem; margin: 2rem auto; color: #222; }
h1 { color: #7a1f1f; }
table { border-collapse: collapse; }
td, th { border: 1px solid #999; padding: 0.3rem 0.6rem; }"""


def render_html(name: str, lang: str, title: str, blocks) -> str:
    e = html.escape
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{e(title)}</title>",
        f"<style>\n{HTML_STYLE}\n</style>",
        f"<script>\n{HTML_EXTRAS[name]}\n</script>",
        "</head>",
        "<body>",
        "<main>",
    ]
    for kind, payload in blocks:
        if kind in ("h1", "h2", "h3"):
            out.append(f"<{kind}>{e(payload)}</{kind}>")
        elif kind == "p":
            out.append(f"<p>{e(payload)}</p>")
        elif kind == "ul":
            out.append("<ul>")
            out += [f"  <li>{e(item)}</li>" for item in payload]
            out.append("</ul>")
        elif kind == "table":
            head, *rows = payload
            out.append("<table>")
            out.append("  <tr>" + "".join(f"<th>{e(c)}</th>" for c in head) + "</tr>")
            for r in rows:
                out.append("  <tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>")
            out.append("</table>")
        else:
            raise ValueError(kind)
    out += ["</main>", "</body>", "</html>"]
    return "\n".join(out) + "\n"


def main() -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    total_chars = 0
    for name, lang, title, content in DOCUMENTS:
        path = OUT_DIR / name
        ext = path.suffix
        if ext == ".pdf":
            render_pdf(path, lang, title, content)
            blocks = [b for page in content for b in page]
        elif ext == ".docx":
            render_docx(path, lang, title, content)
            blocks = content
        elif ext == ".md":
            path.write_text(render_markdown(content), encoding="utf-8", newline="\n")
            blocks = content
        elif ext == ".txt":
            path.write_text(render_text(content), encoding="utf-8", newline="\n")
            blocks = content
        elif ext == ".html":
            path.write_text(render_html(name, lang, title, content), encoding="utf-8",
                            newline="\n")
            blocks = content
        else:
            raise ValueError(name)
        n = len(render_text(blocks))
        total_chars += n
        print(f"{name:45s} {lang}  {n:6d} chars")
    print(f"total text: {total_chars} chars in {len(DOCUMENTS)} files")


if __name__ == "__main__":
    main()
